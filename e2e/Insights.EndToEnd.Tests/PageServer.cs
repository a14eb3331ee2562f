using System.Net;

namespace Insights.EndToEnd.Tests;

/// <summary>A client's web page on an origin of its own, as the tests' visitors open it (also linked into the browser tests).</summary>
internal static class PageServer
{
    /// <summary>
    /// Serves <paramref name="html"/> for every path under <paramref name="origin"/> (<c>http://127.0.0.1:port/</c>)
    /// until the returned listener is closed.
    /// </summary>
    public static HttpListener Serve(string origin, byte[] html)
    {
        var listener = new HttpListener();
        listener.Prefixes.Add(origin);
        listener.Start();
        _ = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                try
                {
                    var context = await listener.GetContextAsync();
                    context.Response.ContentType = "text/html; charset=utf-8";
                    await context.Response.OutputStream.WriteAsync(html);
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    // Stopped (the loop ends with the listener).
                }
            }
        });
        return listener;
    }
}
