using ClickHouse.Driver;
using ClickHouse.Driver.Compression;

namespace Insights.Storage;

/// <summary>How every bulk insert of the system is sent.</summary>
public static class ClickHouseInserts
{
    private static readonly IClickHouseCompressor? DriverDefault = new InsertOptions().Compressor;

    /// <summary>
    /// The body compression of an insert, following the connection string's <c>Compression</c>: ClickHouse.Driver
    /// zstd-compresses every insert body by default whatever that setting says, which on loopback (scripts/run.sh sets
    /// <c>Compression=false</c>) only spends CPU twice, compressing here and decompressing in the engine.
    /// </summary>
    public static IClickHouseCompressor? InsertCompressor(this ClickHouseClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.Settings.UseCompression ? DriverDefault : null;
    }
}
