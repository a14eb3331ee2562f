namespace Insights.QueryApi.Apis;

/// <summary>
/// A request body read whole but never past a bound: the <c>Content-Length</c> is checked first, and a body without
/// one (chunked) stops being read at the first byte over. Read at the edge, judged by the handler after the caller
/// was checked, so a malformed body from a stranger is a 401, not a 400.
/// </summary>
public static class RequestBodies
{
    public static async Task<(ReadOnlyMemory<byte> Body, bool TooLarge)> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > maxBytes)
        {
            return (ReadOnlyMemory<byte>.Empty, true);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > maxBytes)
            {
                return (ReadOnlyMemory<byte>.Empty, true);
            }
        }

        return (buffer.ToArray(), false);
    }
}
