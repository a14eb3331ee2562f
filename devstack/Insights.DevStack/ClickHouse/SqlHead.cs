using System.Text;

namespace Insights.DevStack.ClickHouse;

/// <summary>
/// What the HTTP layer must know about a request's SQL before the engine sees it: whether it is an
/// INSERT carrying inline data (and where that data starts), and which output format it asks for.
/// A small lexer, not a parser: it skips string literals, quoted identifiers and comments, and looks at
/// top-level keywords only. Everything else is left to the engine's own parser.
/// </summary>
internal readonly record struct SqlHead(
    bool IsInsertWithData,
    int SqlLength,
    int DataStart,
    string? InputFormat,
    string? OutputFormat)
{
    /// <summary>Splits <paramref name="text"/>; <paramref name="complete"/> says whether the whole request is in it.</summary>
    public static SqlHead Parse(ReadOnlySpan<byte> text, bool complete)
    {
        var lexer = new Lexer(text);
        var first = lexer.NextWord(out _);
        if (!first.Equals("INSERT", StringComparison.OrdinalIgnoreCase))
        {
            return new SqlHead(false, text.Length, text.Length, null, FindOutputFormat(text));
        }

        while (lexer.NextWord(out var start) is { Length: > 0 } word)
        {
            if (lexer.Depth != 0)
            {
                continue;
            }

            if (word.Equals("FORMAT", StringComparison.OrdinalIgnoreCase))
            {
                var format = lexer.NextWord(out _);
                if (format.Length == 0)
                {
                    throw ChdbException.Syntax("INSERT ... FORMAT needs a format name");
                }

                return new SqlHead(true, start, lexer.SkipToDataStart(), format, null);
            }

            if (word.Equals("VALUES", StringComparison.OrdinalIgnoreCase))
            {
                return new SqlHead(true, start, lexer.Position, "Values", null);
            }

            if (word.Equals("SELECT", StringComparison.OrdinalIgnoreCase) || word.Equals("WITH", StringComparison.OrdinalIgnoreCase))
            {
                // INSERT ... SELECT: no inline data, the engine runs it as one statement.
                return new SqlHead(false, text.Length, text.Length, null, null);
            }
        }

        if (!complete)
        {
            throw ChdbException.Syntax("Max query size exceeded before the INSERT's FORMAT clause");
        }

        return new SqlHead(false, text.Length, text.Length, null, null);
    }

    private static string? FindOutputFormat(ReadOnlySpan<byte> text)
    {
        var lexer = new Lexer(text);
        string? format = null;
        while (lexer.NextWord(out _) is { Length: > 0 } word)
        {
            if (lexer.Depth == 0 && word.Equals("FORMAT", StringComparison.OrdinalIgnoreCase))
            {
                var name = lexer.NextWord(out _);
                format = name.Length > 0 ? name : format;
            }
        }

        return format;
    }

    private ref struct Lexer(ReadOnlySpan<byte> text)
    {
        private readonly ReadOnlySpan<byte> text = text;

        public int Position { get; private set; }

        public int Depth { get; private set; }

        /// <summary>The next bare word at any depth (identifiers and keywords), skipping everything else.</summary>
        public string NextWord(out int start)
        {
            while (Position < text.Length)
            {
                var c = text[Position];
                if (IsWordStart(c))
                {
                    start = Position;
                    while (Position < text.Length && IsWordPart(text[Position]))
                    {
                        Position++;
                    }

                    return Encoding.ASCII.GetString(text[start..Position]);
                }

                switch (c)
                {
                    case (byte)'\'' or (byte)'"' or (byte)'`':
                        SkipQuoted(c);
                        continue;
                    case (byte)'-' when Peek(1) == '-':
                    case (byte)'#':
                        SkipLine();
                        continue;
                    case (byte)'/' when Peek(1) == '*':
                        SkipBlockComment();
                        continue;
                    case (byte)'(' or (byte)'[' or (byte)'{':
                        Depth++;
                        break;
                    case (byte)')' or (byte)']' or (byte)'}':
                        Depth = Math.Max(0, Depth - 1);
                        break;
                }

                Position++;
            }

            start = Position;
            return string.Empty;
        }

        /// <summary>ClickHouse's rule: inline data begins after the format name, its trailing blanks and one line break.</summary>
        public int SkipToDataStart()
        {
            while (Position < text.Length && (text[Position] == ' ' || text[Position] == '\t'))
            {
                Position++;
            }

            if (Position < text.Length && text[Position] == '\r')
            {
                Position++;
            }

            if (Position < text.Length && text[Position] == '\n')
            {
                Position++;
            }

            return Position;
        }

        private readonly int Peek(int offset) => Position + offset < text.Length ? text[Position + offset] : -1;

        private void SkipQuoted(byte quote)
        {
            Position++;
            while (Position < text.Length)
            {
                var c = text[Position++];
                if (c == '\\')
                {
                    Position++;
                }
                else if (c == quote)
                {
                    if (Position < text.Length && text[Position] == quote)
                    {
                        Position++; // doubled quote inside the literal
                    }
                    else
                    {
                        return;
                    }
                }
            }
        }

        private void SkipLine()
        {
            while (Position < text.Length && text[Position] != '\n')
            {
                Position++;
            }
        }

        private void SkipBlockComment()
        {
            Position += 2;
            while (Position < text.Length && !(text[Position] == '*' && Peek(1) == '/'))
            {
                Position++;
            }

            Position = Math.Min(text.Length, Position + 2);
        }

        private static bool IsWordStart(byte c) => c is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or (byte)'_';

        private static bool IsWordPart(byte c) => IsWordStart(c) || c is >= (byte)'0' and <= (byte)'9';
    }
}
