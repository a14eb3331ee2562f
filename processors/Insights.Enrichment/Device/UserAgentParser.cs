namespace Insights.Enrichment.Device;

/// <summary>
/// Browser, OS and device class from a user agent, by ordered token checks. No UA-parser package is available for
/// .NET here, and the question asked is small (which browser family and major version, which OS, what class of
/// device), so a compact parser with a table of real agents in its tests beats a regex database.
/// </summary>
/// <remarks>
/// Order matters because agents impersonate each other: every Chromium browser says "Chrome/" and "Safari/", Edge
/// says both plus "Edg/", in-app browsers wrap Safari or Chrome. So specific tokens are checked before generic ones.
/// Only the first <see cref="MaxParsedLength"/> characters are read: real agents are far shorter, and a hostile
/// 10 KB agent must not cost 10 KB per check.
/// </remarks>
internal static class UserAgentParser
{
    public const int MaxParsedLength = 1024;

    private static readonly (string Token, string Browser, string? VersionToken)[] Browsers =
    [
        // In-app browsers first: they wrap Safari/Chrome and say so.
        ("FBAV/", "Facebook", "FBAV/"),
        ("FBAN/", "Facebook", "FBAV/"),
        ("FB_IAB/", "Facebook", "FBAV/"),
        ("Instagram ", "Instagram", "Instagram "),
        ("LinkedInApp", "LinkedIn", "LinkedInApp]/"),
        ("MicroMessenger/", "WeChat", "MicroMessenger/"),
        (" Line/", "LINE", " Line/"),
        ("Snapchat", "Snapchat", "Snapchat/"),
        ("Pinterest", "Pinterest", "Pinterest/"),
        ("musical_ly", "TikTok", "musical_ly_"),
        ("BytedanceWebview", "TikTok", null),
        ("GSA/", "Google App", "GSA/"),
        ("OculusBrowser/", "Oculus Browser", "OculusBrowser/"), // Quest's browser also says SamsungBrowser/
        ("SamsungBrowser/", "Samsung Internet", "SamsungBrowser/"),
        ("EdgA/", "Edge", "EdgA/"),
        ("EdgiOS/", "Edge", "EdgiOS/"),
        ("Edg/", "Edge", "Edg/"),
        ("Edge/", "Edge", "Edge/"),
        ("Opera Mini/", "Opera Mini", "Opera Mini/"),
        ("OPR/", "Opera", "OPR/"),
        ("OPiOS/", "Opera", "OPiOS/"),
        ("OPT/", "Opera", "OPT/"),
        ("YaBrowser/", "Yandex Browser", "YaBrowser/"),
        ("UCBrowser/", "UC Browser", "UCBrowser/"),
        ("Vivaldi/", "Vivaldi", "Vivaldi/"),
        ("DuckDuckGo/", "DuckDuckGo", "DuckDuckGo/"),
        ("Ddg/", "DuckDuckGo", "Ddg/"),
        ("HuaweiBrowser/", "Huawei Browser", "HuaweiBrowser/"),
        ("MiuiBrowser/", "MIUI Browser", "MiuiBrowser/"),
        ("Whale/", "Whale", "Whale/"),
        ("coc_coc_browser/", "Coc Coc", "coc_coc_browser/"),
        ("Silk/", "Silk", "Silk/"),
        ("FxiOS/", "Firefox", "FxiOS/"),
        ("Focus/", "Firefox Focus", "Focus/"),
        ("CriOS/", "Chrome", "CriOS/"),
        ("Firefox/", "Firefox", "Firefox/"),
    ];

    public static DeviceInfo Parse(string? userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
        {
            return DeviceInfo.Unknown;
        }

        var ua = userAgent.AsSpan(0, Math.Min(userAgent.Length, MaxParsedLength));
        var (os, osVersion) = OperatingSystem(ua);
        var (browser, major) = Browser(ua);
        return new DeviceInfo(browser, major, os, osVersion, DeviceType(ua, os));
    }

    private static (string Browser, int? Major) Browser(ReadOnlySpan<char> ua)
    {
        foreach (var (token, browser, versionToken) in Browsers)
        {
            if (ua.Contains(token, StringComparison.Ordinal))
            {
                return (browser, versionToken is null ? null : Major(ua, versionToken));
            }
        }

        if (ua.Contains("Chrome/", StringComparison.Ordinal))
        {
            // "; wv)" marks Android's WebView: an app's embedded page, not the Chrome browser.
            return (ua.Contains("; wv)", StringComparison.Ordinal) ? "Chrome WebView" : "Chrome", Major(ua, "Chrome/"));
        }

        if (ua.Contains("Chromium/", StringComparison.Ordinal))
        {
            return ("Chromium", Major(ua, "Chromium/"));
        }

        if (ua.Contains("MSIE ", StringComparison.Ordinal))
        {
            return ("Internet Explorer", Major(ua, "MSIE "));
        }

        if (ua.Contains("Trident/", StringComparison.Ordinal))
        {
            return ("Internet Explorer", Major(ua, "rv:"));
        }

        if (ua.Contains("Opera/", StringComparison.Ordinal))
        {
            return ("Opera", Major(ua, "Version/") ?? Major(ua, "Opera/"));
        }

        if (ua.Contains("Safari/", StringComparison.Ordinal) && ua.Contains("Version/", StringComparison.Ordinal))
        {
            return (ua.Contains("Mobile/", StringComparison.Ordinal) ? "Mobile Safari" : "Safari", Major(ua, "Version/"));
        }

        if (ua.Contains("AppleWebKit/", StringComparison.Ordinal)
            && (ua.Contains("iPhone", StringComparison.Ordinal) || ua.Contains("iPad", StringComparison.Ordinal)))
        {
            // An iOS app's WKWebView: Safari's engine without Safari's token.
            return ("iOS WebView", null);
        }

        return ("Other", null);
    }

    private static (string Os, string? Version) OperatingSystem(ReadOnlySpan<char> ua)
    {
        if (ua.Contains("Windows Phone", StringComparison.Ordinal))
        {
            return ("Windows Phone", MajorText(ua, "Windows Phone "));
        }

        if (ua.Contains("Windows NT ", StringComparison.Ordinal))
        {
            // NT 10.0 is Windows 10 and 11 alike: the agent froze; only client hints tell them apart.
            var nt = ua[(ua.IndexOf("Windows NT ", StringComparison.Ordinal) + 11)..];
            return ("Windows", nt.StartsWith("10.0") ? "10" : nt.StartsWith("6.3") ? "8.1" : nt.StartsWith("6.2") ? "8"
                : nt.StartsWith("6.1") ? "7" : nt.StartsWith("6.0") ? "Vista" : nt.StartsWith("5.1") ? "XP" : null);
        }

        if (ua.Contains("Windows", StringComparison.Ordinal))
        {
            return ("Windows", null);
        }

        if (ua.Contains("iPad", StringComparison.Ordinal))
        {
            return ("iPadOS", MajorText(ua, "CPU OS "));
        }

        if (ua.Contains("iPhone", StringComparison.Ordinal) || ua.Contains("iPod", StringComparison.Ordinal))
        {
            return ("iOS", MajorText(ua, "iPhone OS ") ?? MajorText(ua, "CPU OS "));
        }

        if (ua.Contains("HarmonyOS", StringComparison.Ordinal))
        {
            return ("HarmonyOS", MajorText(ua, "HarmonyOS "));
        }

        if (ua.Contains("KAIOS", StringComparison.OrdinalIgnoreCase))
        {
            return ("KaiOS", null); // KaiOS phones also say "Android"
        }

        if (ua.Contains("Android", StringComparison.Ordinal))
        {
            return ("Android", MajorText(ua, "Android "));
        }

        if (ua.Contains("CrOS", StringComparison.Ordinal))
        {
            return ("ChromeOS", null);
        }

        if (ua.Contains("Mac OS X", StringComparison.Ordinal) || ua.Contains("Macintosh", StringComparison.Ordinal))
        {
            return ("macOS", MacVersion(ua));
        }

        if (ua.Contains("Tizen", StringComparison.Ordinal))
        {
            return ("Tizen", null);
        }

        if (ua.Contains("Web0S", StringComparison.Ordinal) || ua.Contains("webOS", StringComparison.Ordinal))
        {
            return ("webOS", null);
        }

        if (ua.Contains("Linux", StringComparison.Ordinal) || ua.Contains("X11", StringComparison.Ordinal))
        {
            return ("Linux", null);
        }

        if (ua.Contains("BSD", StringComparison.Ordinal))
        {
            return ("BSD", null);
        }

        return ("Other", null);
    }

    private static string DeviceType(ReadOnlySpan<char> ua, string os)
    {
        if (ua.Contains("SmartTV", StringComparison.OrdinalIgnoreCase) || ua.Contains("SMART-TV", StringComparison.OrdinalIgnoreCase)
            || ua.Contains("HbbTV", StringComparison.Ordinal) || ua.Contains("Android TV", StringComparison.Ordinal)
            || ua.Contains("AppleTV", StringComparison.Ordinal) || ua.Contains("CrKey", StringComparison.Ordinal)
            || ua.Contains("Roku", StringComparison.Ordinal) || ua.Contains("BRAVIA", StringComparison.Ordinal)
            || ua.Contains("AFT", StringComparison.Ordinal) && os == "Android"
            || ua.Contains("PlayStation", StringComparison.Ordinal) || ua.Contains("Xbox", StringComparison.Ordinal)
            || ua.Contains("Nintendo", StringComparison.Ordinal) || ua.Contains("OculusBrowser", StringComparison.Ordinal)
            || os is "webOS" or "Tizen" && !ua.Contains("Mobile", StringComparison.Ordinal))
        {
            return DeviceTypes.Other;
        }

        switch (os)
        {
            case "iPadOS":
                return DeviceTypes.Tablet;
            case "iOS" or "Windows Phone" or "KaiOS":
                return DeviceTypes.Mobile;
            case "Android" or "HarmonyOS":
                // Android phones say "Mobile"; tablets do not (Firefox says "Tablet"). Kindles say "Silk" or "Kindle".
                if (ua.Contains("Opera Mini", StringComparison.Ordinal) || ua.Contains("Opera Mobi", StringComparison.Ordinal))
                {
                    return DeviceTypes.Mobile;
                }

                return ua.Contains("Tablet", StringComparison.Ordinal) || ua.Contains("Kindle", StringComparison.Ordinal)
                    || ua.Contains("Silk/", StringComparison.Ordinal) || !ua.Contains("Mobile", StringComparison.Ordinal)
                    ? DeviceTypes.Tablet
                    : DeviceTypes.Mobile;
            case "Windows" or "macOS" or "Linux" or "ChromeOS" or "BSD":
                return ua.Contains("Mobile", StringComparison.Ordinal) && !ua.Contains("Windows NT", StringComparison.Ordinal)
                    ? DeviceTypes.Mobile
                    : DeviceTypes.Desktop;
            default:
                return ua.Contains("Mobi", StringComparison.Ordinal) ? DeviceTypes.Mobile : DeviceTypes.Other;
        }
    }

    private static int? Major(ReadOnlySpan<char> ua, string token)
    {
        var at = ua.IndexOf(token, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var rest = ua[(at + token.Length)..];
        var value = 0;
        var digits = 0;
        while (digits < rest.Length && digits < 6 && char.IsAsciiDigit(rest[digits]))
        {
            value = (value * 10) + (rest[digits] - '0');
            digits++;
        }

        return digits == 0 ? null : value;
    }

    private static string? MajorText(ReadOnlySpan<char> ua, string token) => Major(ua, token)?.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string? MacVersion(ReadOnlySpan<char> ua)
    {
        // "Mac OS X 10_15_7" (Safari, Chrome) or "Mac OS X 10.15" (Firefox): major.minor.
        var at = ua.IndexOf("Mac OS X ", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var rest = ua[(at + 9)..];
        var end = 0;
        var separators = 0;
        while (end < rest.Length && end < 8 && (char.IsAsciiDigit(rest[end]) || ((rest[end] is '_' or '.') && ++separators < 2)))
        {
            end++;
        }

        return end == 0 ? null : rest[..end].ToString().Replace('_', '.');
    }
}
