using System.Text;
using Insights.DevStack.ClickHouse;

namespace Insights.DevStack.Tests.ClickHouse;

public sealed class SqlHeadTests
{
    private static SqlHead Parse(string text, bool complete = true) => SqlHead.Parse(Encoding.UTF8.GetBytes(text), complete);

    [Fact]
    public void Insert_data_starts_after_the_format_name_and_one_line_break()
    {
        var text = "INSERT INTO t (a, b) FORMAT RowBinary\n\u0001\u0002\n\n";
        var head = Parse(text);

        Assert.True(head.IsInsertWithData);
        Assert.Equal("RowBinary", head.InputFormat);
        Assert.Equal("INSERT INTO t (a, b) ", text[..head.SqlLength]);
        Assert.Equal("\u0001\u0002\n\n", text[head.DataStart..]);
    }

    [Fact]
    public void Values_data_starts_right_after_the_keyword()
    {
        var text = "insert into t values (1, 'FORMAT x'), (2, 'b')";
        var head = Parse(text);

        Assert.True(head.IsInsertWithData);
        Assert.Equal("Values", head.InputFormat);
        Assert.Equal(" (1, 'FORMAT x'), (2, 'b')", text[head.DataStart..]);
    }

    [Theory]
    [InlineData("INSERT INTO t SELECT * FROM s FORMAT TSV")]
    [InlineData("INSERT INTO t WITH 1 AS x SELECT x")]
    public void Insert_select_has_no_inline_data(string sql) => Assert.False(Parse(sql).IsInsertWithData);

    [Theory]
    [InlineData("SELECT 1 FORMAT JSON", "JSON")]
    [InlineData("SELECT 'FORMAT CSV' AS f", null)]
    [InlineData("SELECT 1 -- FORMAT CSV\n", null)]
    [InlineData("SELECT 1 /* FORMAT CSV */ FORMAT TSVWithNames", "TSVWithNames")]
    [InlineData("SELECT * FROM t WHERE s IN (SELECT s FROM u FORMAT CSV) FORMAT Native", "Native")]
    [InlineData("SELECT `FORMAT` FROM t", null)]
    public void The_output_format_is_the_top_level_format_clause(string sql, string? format) =>
        Assert.Equal(format, Parse(sql).OutputFormat);

    [Fact]
    public void A_comment_before_insert_is_skipped_and_quoted_format_words_are_ignored()
    {
        var head = Parse("/* load */ INSERT INTO `FORMAT` (\"VALUES\") FORMAT CSV\r\n1\n");

        Assert.True(head.IsInsertWithData);
        Assert.Equal("CSV", head.InputFormat);
    }

    [Fact]
    public void An_insert_whose_format_clause_is_beyond_the_size_limit_is_a_clear_error()
    {
        var error = Assert.Throws<ChdbException>(() => Parse("INSERT INTO t (" + new string('a', 100), complete: false));

        Assert.Equal(62, error.Code);
        Assert.Contains("Max query size exceeded", error.Message, StringComparison.Ordinal);
    }
}
