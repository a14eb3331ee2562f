using Insights.Contracts;

namespace Insights.Ingest.Privacy;

/// <summary>
/// The browser's opt-out signals, honoured per site: <c>DNT: 1</c> (Do Not Track) and <c>Sec-GPC: 1</c> (Global Privacy
/// Control). Browsers send them with every request, beacons included, so ingest sees them even from an old tracker
/// that does not check <c>navigator.doNotTrack</c> itself.
/// </summary>
public static class PrivacySignals
{
    /// <summary>The <c>reason</c> of a 202 that stored nothing because of <c>DNT: 1</c>; stable on the wire.</summary>
    public const string DoNotTrack = "do_not_track";

    /// <summary>The <c>reason</c> of a 202 that stored nothing because of <c>Sec-GPC: 1</c>; stable on the wire.</summary>
    public const string GlobalPrivacyControl = "global_privacy_control";

    /// <summary>Why the request's events must not be stored for this site, or null when they may be.</summary>
    public static string? OptOut(SiteOptions site, IHeaderDictionary headers)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(headers);
        return site.HonorGlobalPrivacyControl && IsOne(headers["Sec-GPC"]) ? GlobalPrivacyControl
            : site.HonorDoNotTrack && IsOne(headers["DNT"]) ? DoNotTrack
            : null;
    }

    // The specs define only "1" as the opt-out; a header a proxy repeated still counts (doubt favours the visitor).
    private static bool IsOne(Microsoft.Extensions.Primitives.StringValues values)
    {
        foreach (var value in values)
        {
            if (value.AsSpan().Trim() is "1")
            {
                return true;
            }
        }

        return false;
    }
}
