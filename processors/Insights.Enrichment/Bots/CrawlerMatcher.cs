using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Insights.Enrichment.Bots;

/// <summary>One crawler pattern of the list, with what it is for (tags such as search-engine, seo, http-library).</summary>
internal sealed record CrawlerPattern(string Pattern, IReadOnlyList<string> Tags)
{
    /// <summary>
    /// HTTP client libraries (curl, python-requests, Go-http-client …). Shop backends and chat platforms send
    /// server-side events with exactly these clients, so the pipeline drops them only as page views.
    /// </summary>
    public bool IsHttpLibrary { get; } = Tags.Contains("http-library");
}

/// <summary>
/// The crawler user-agent list (npm <c>crawler-user-agents</c>, MIT) compiled into one matcher. 1,464 of its 1,500
/// patterns are plain text: they become one <see cref="SearchValues{T}"/> set that the runtime searches for all at once
/// (a vectorised multi-string search), so a browser's UA — the common case — is rejected in one pass. The 36 real
/// regular expressions become one alternation run by the non-backtracking engine, linear in the UA's length even for
/// a hostile 10 KB agent.
/// </summary>
internal sealed class CrawlerMatcher
{
    private static readonly SearchValues<char> RegexMetacharacters = SearchValues.Create(".^$|?*+()[]{}");

    private readonly SearchValues<string> literals;
    private readonly Dictionary<char, (string Literal, CrawlerPattern Pattern)[]> literalsByFirstChar;
    private readonly Regex? combined;
    private readonly (Regex Regex, CrawlerPattern Pattern)[] regexes;

    private CrawlerMatcher(List<(string Literal, CrawlerPattern Pattern)> literalPatterns, List<CrawlerPattern> regexPatterns)
    {
        literals = SearchValues.Create(literalPatterns.Select(p => p.Literal).Distinct(StringComparer.Ordinal).ToArray(), StringComparison.Ordinal);
        literalsByFirstChar = literalPatterns
            .GroupBy(p => p.Literal[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(p => p.Literal.Length).ToArray());
        regexes = [.. regexPatterns.Select(p => (new Regex(p.Pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking), p))];
        combined = regexPatterns.Count == 0
            ? null
            : new Regex(string.Join('|', regexPatterns.Select(p => $"(?:{p.Pattern})")), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
        Count = literalPatterns.Count + regexPatterns.Count;
    }

    public int Count { get; }

    /// <summary>Reads the package's JSON: an array of objects with <c>pattern</c> (a regular expression) and <c>tags</c>.</summary>
    /// <exception cref="InvalidDataException">The file is not that JSON, or a pattern is not a regular expression.</exception>
    public static CrawlerMatcher Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Parse(stream, path);
    }

    public static CrawlerMatcher Parse(Stream json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{source}: not JSON ({error.Message})", error);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"{source}: expected a JSON array of crawler patterns");
            }

            var literalPatterns = new List<(string, CrawlerPattern)>();
            var regexPatterns = new List<CrawlerPattern>();
            var index = 0;
            foreach (var item in document.RootElement.EnumerateArray())
            {
                index++;
                if (item.ValueKind != JsonValueKind.Object
                    || !item.TryGetProperty("pattern", out var patternElement)
                    || patternElement.ValueKind != JsonValueKind.String
                    || string.IsNullOrEmpty(patternElement.GetString()))
                {
                    throw new InvalidDataException($"{source}: entry {index} has no \"pattern\" string");
                }

                var pattern = patternElement.GetString()!;
                var tags = item.TryGetProperty("tags", out var tagsElement) && tagsElement.ValueKind == JsonValueKind.Array
                    ? [.. tagsElement.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!)]
                    : Array.Empty<string>();
                var entry = new CrawlerPattern(pattern, tags);
                if (TryAsLiteral(pattern, out var literal))
                {
                    literalPatterns.Add((literal, entry));
                }
                else
                {
                    try
                    {
                        _ = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
                    }
                    catch (Exception error) when (error is ArgumentException or NotSupportedException)
                    {
                        throw new InvalidDataException($"{source}: entry {index} pattern '{pattern}' is not usable: {error.Message}", error);
                    }

                    regexPatterns.Add(entry);
                }
            }

            return new CrawlerMatcher(literalPatterns, regexPatterns);
        }
    }

    /// <summary>The first pattern that matches the user agent, or null.</summary>
    public CrawlerPattern? Match(string userAgent)
    {
        var span = userAgent.AsSpan();
        var at = span.IndexOfAny(literals);
        if (at >= 0)
        {
            return WhichLiteral(span[at..]);
        }

        if (combined is not null && combined.IsMatch(span))
        {
            foreach (var (regex, pattern) in regexes)
            {
                if (regex.IsMatch(span))
                {
                    return pattern;
                }
            }
        }

        return null;
    }

    private CrawlerPattern WhichLiteral(ReadOnlySpan<char> text)
    {
        // SearchValues says where, not which: the candidates share the first character; the longest that fits wins.
        foreach (var (literal, pattern) in literalsByFirstChar[text[0]])
        {
            if (text.StartsWith(literal, StringComparison.Ordinal))
            {
                return pattern;
            }
        }

        throw new InvalidOperationException("unreachable: SearchValues found a literal that is not in the list");
    }

    /// <summary>A pattern is plain text when it has no metacharacter other than escaped punctuation (<c>Googlebot\/</c>).</summary>
    internal static bool TryAsLiteral(string pattern, out string literal)
    {
        var builder = new StringBuilder(pattern.Length);
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\')
            {
                if (i + 1 >= pattern.Length || char.IsAsciiLetterOrDigit(pattern[i + 1]))
                {
                    literal = "";
                    return false; // \d, \s, \b …: a character class or an anchor, not text
                }

                builder.Append(pattern[++i]);
            }
            else if (RegexMetacharacters.Contains(c))
            {
                literal = "";
                return false;
            }
            else
            {
                builder.Append(c);
            }
        }

        literal = builder.ToString();
        return literal.Length > 0;
    }
}
