using System.Text;
using Insights.DevStack.ClickHouse;

namespace Insights.DevStack.Tests.ClickHouse;

public sealed class ResultFormatTests
{
    [Fact]
    public void The_binary_header_with_names_and_types_is_measured_exactly()
    {
        // 2 columns: "n" UInt64, "s" String, then one row.
        byte[] chunk = [2, 1, (byte)'n', 1, (byte)'s', 6, .. "UInt64"u8, 6, .. "String"u8, 7, 0, 0, 0, 0, 0, 0, 0, 1, (byte)'x'];

        Assert.Equal(19, ResultFormat.Of("RowBinaryWithNamesAndTypes").HeaderLength(chunk));
    }

    [Fact]
    public void Text_headers_are_whole_lines()
    {
        var chunk = Encoding.UTF8.GetBytes("a\tb\nUInt8\tString\n1\tx\n");

        Assert.Equal(4, ResultFormat.Of("TSVWithNames").HeaderLength(chunk));
        Assert.Equal(17, ResultFormat.Of("TabSeparatedWithNamesAndTypes").HeaderLength(chunk));
        Assert.Equal(0, ResultFormat.Of("TSV").HeaderLength(chunk));
    }

    [Theory]
    [InlineData("RowBinaryWithNamesAndTypes", true)]
    [InlineData("JSONEachRow", true)]
    [InlineData("Native", true)]
    [InlineData("JSON", false)]
    [InlineData("PrettyCompact", false)]
    [InlineData("Parquet", false)]
    public void Documents_that_cannot_be_cut_into_chunks_are_not_streamed(string format, bool streamable) =>
        Assert.Equal(streamable, ResultFormat.Of(format).IsStreamable);
}
