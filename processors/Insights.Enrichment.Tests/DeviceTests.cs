using Insights.Enrichment.Device;

namespace Insights.Enrichment.Tests;

public sealed class DeviceTests
{
    /// <summary>Real agents as browsers send them (2024–2025 versions, and a few old and odd ones).</summary>
    public static TheoryData<string, string, int?, string, string?, string> Browsers => new()
    {
        // Chrome
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", 131, "Windows", "10", DeviceTypes.Desktop },
        { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", 131, "macOS", "10.15", DeviceTypes.Desktop },
        { "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", "Chrome", 130, "Linux", null, DeviceTypes.Desktop },
        { "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", 131, "ChromeOS", null, DeviceTypes.Desktop },
        { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome", 131, "Android", "10", DeviceTypes.Mobile },
        { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", 131, "Android", "10", DeviceTypes.Tablet },
        { "Mozilla/5.0 (Linux; Android 13; SM-X706B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", 131, "Android", "13", DeviceTypes.Tablet },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", "Chrome", 131, "iOS", "17", DeviceTypes.Mobile },
        { "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", "Chrome", 131, "iPadOS", "17", DeviceTypes.Tablet },
        { "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36", "Chrome WebView", 131, "Android", "13", DeviceTypes.Mobile },
        // Edge
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86", "Edge", 131, "Windows", "10", DeviceTypes.Desktop },
        { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86", "Edge", 131, "macOS", "10.15", DeviceTypes.Desktop },
        { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0", "Edge", 131, "Android", "10", DeviceTypes.Mobile },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 EdgiOS/131.2903.68 Mobile/15E148 Safari/605.1.15", "Edge", 131, "iOS", "18", DeviceTypes.Mobile },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19582", "Edge", 18, "Windows", "10", DeviceTypes.Desktop },
        // Firefox
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", 133, "Windows", "10", DeviceTypes.Desktop },
        { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", 133, "macOS", "10.15", DeviceTypes.Desktop },
        { "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", 133, "Linux", null, DeviceTypes.Desktop },
        { "Mozilla/5.0 (Android 15; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", "Firefox", 133, "Android", "15", DeviceTypes.Mobile },
        { "Mozilla/5.0 (Android 14; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0", "Firefox", 133, "Android", "14", DeviceTypes.Tablet },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15", "Firefox", 133, "iOS", "17", DeviceTypes.Mobile },
        // Safari
        { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari", 18, "macOS", "10.15", DeviceTypes.Desktop },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Mobile Safari", 18, "iOS", "18", DeviceTypes.Mobile },
        { "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1", "Mobile Safari", 17, "iPadOS", "17", DeviceTypes.Tablet },
        { "Mozilla/5.0 (iPod touch; CPU iPhone OS 15_8 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6.6 Mobile/15E148 Safari/604.1", "Mobile Safari", 15, "iOS", "15", DeviceTypes.Mobile },
        // Samsung Internet
        { "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", "Samsung Internet", 26, "Android", "14", DeviceTypes.Mobile },
        { "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36", "Samsung Internet", 23, "Android", "13", DeviceTypes.Tablet },
        // Opera
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0", "Opera", 115, "Windows", "10", DeviceTypes.Desktop },
        { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 OPR/86.0.0.0", "Opera", 86, "Android", "10", DeviceTypes.Mobile },
        { "Opera/9.80 (Android; Opera Mini/36.2.2254/119.132; U; id) Presto/2.12.423 Version/12.16", "Opera Mini", 36, "Android", null, DeviceTypes.Mobile },
        // Other Chromium browsers
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 YaBrowser/24.10.0.0 Safari/537.36", "Yandex Browser", 24, "Windows", "10", DeviceTypes.Desktop },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Vivaldi/7.0.3495.18", "Vivaldi", 7, "Windows", "10", DeviceTypes.Desktop },
        { "Mozilla/5.0 (Linux; U; Android 10; en-US; RMX2020 Build/QP1A.190711.020) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 UCBrowser/13.4.0.1306 Mobile Safari/537.36", "UC Browser", 13, "Android", "10", DeviceTypes.Mobile },
        { "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.0.0 Mobile DuckDuckGo/5 Safari/537.36", "DuckDuckGo", 5, "Android", "14", DeviceTypes.Mobile },
        { "Mozilla/5.0 (Linux; Android 10; HarmonyOS; ELS-NX9; HMSCore 6.13.0.321) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.5735.196 HuaweiBrowser/15.0.4.312 Mobile Safari/537.36", "Huawei Browser", 15, "HarmonyOS", null, DeviceTypes.Mobile },
        { "Mozilla/5.0 (Linux; U; Android 13; en-us; 2201117TY Build/TKQ1.221114.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/112.0.5615.136 Mobile Safari/537.36 XiaoMi/MiuiBrowser/14.4.0-g", "MIUI Browser", 14, "Android", "13", DeviceTypes.Mobile },
        { "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/131.2.2 like Chrome/131.0.6778.105 Safari/537.36", "Silk", 131, "Android", "9", DeviceTypes.Tablet },
        // In-app browsers
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/485.0.0.36.107;FBBV/656026035;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.6.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/658376394]", "Facebook", 485, "iOS", "17", DeviceTypes.Mobile },
        { "Mozilla/5.0 (Linux; Android 14; SM-A546B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.107 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/489.0.0.66.81;]", "Facebook", 489, "Android", "14", DeviceTypes.Mobile },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 354.0.0.30.96 (iPhone15,3; iOS 18_0; en_US; en; scale=3.00; 1290x2796; 654384474)", "Instagram", 354, "iOS", "18", DeviceTypes.Mobile },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [LinkedInApp]/9.30.1166", "LinkedIn", 9, "iOS", "17", DeviceTypes.Mobile },
        { "Mozilla/5.0 (Linux; Android 12; V2118A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/101.0.4951.74 Mobile Safari/537.36 XWEB/1300133 MMWEBSDK/20240404 MMWEBID/8509 MicroMessenger/8.0.49.2600(0x2800313D) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64", "WeChat", 8, "Android", "12", DeviceTypes.Mobile },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/343.0.695551749 Mobile/15E148 Safari/604.1", "Google App", 343, "iOS", "17", DeviceTypes.Mobile },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_35.5.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en Region/US", "TikTok", 35, "iOS", "17", DeviceTypes.Mobile },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", "iOS WebView", null, "iOS", "17", DeviceTypes.Mobile },
        // Old, odd and non-phone devices
        { "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko", "Internet Explorer", 11, "Windows", "10", DeviceTypes.Desktop },
        { "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)", "Internet Explorer", 10, "Windows", "7", DeviceTypes.Desktop },
        { "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.14977", "Edge", 15, "Windows Phone", "10", DeviceTypes.Mobile },
        { "Mozilla/5.0 (Mobile; LYF/F300B/LYF-F300B-001-01-15-130718-i; Android; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5", "Firefox", 48, "KaiOS", null, DeviceTypes.Mobile },
        { "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36", "Other", null, "Tizen", null, DeviceTypes.Other },
        { "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15", "Safari", 13, "Other", null, DeviceTypes.Other },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edge/44.18363.8131", "Edge", 44, "Windows", "10", DeviceTypes.Other },
        { "Mozilla/5.0 (X11; Linux x86_64; Quest 3) AppleWebKit/537.36 (KHTML, like Gecko) OculusBrowser/35.2.0.3.61 SamsungBrowser/4.0 Chrome/130.0.6723.118 VR Safari/537.36", "Oculus Browser", 35, "Linux", null, DeviceTypes.Other },
    };

    [Theory]
    [MemberData(nameof(Browsers))]
    public void Browser_os_and_device_class_come_from_the_user_agent(string userAgent, string browser, int? major, string os, string? osVersion, string type)
    {
        var device = UserAgentParser.Parse(userAgent);

        Assert.Equal((browser, major, os, osVersion, type), (device.Browser, device.BrowserMajor, device.Os, device.OsVersion, device.Type));
    }

    [Fact]
    public void The_table_covers_at_least_forty_real_agents() => Assert.True(Browsers.Count >= 40, $"{Browsers.Count} agents");

    [Fact]
    public void The_pipeline_reports_the_same_device_and_serves_repeats_from_its_cache()
    {
        using var pipeline = Pipelines.Create(_ => { });
        var first = pipeline.Enrich(Pipelines.Event(userAgent: Agents.SafariIphone)).Device;
        var second = pipeline.Enrich(Pipelines.Event(userAgent: Agents.SafariIphone)).Device;

        Assert.Equal(("Mobile Safari", 18, "iOS", DeviceTypes.Mobile), (first.Browser, first.BrowserMajor, first.Os, first.Type));
        Assert.Same(first, second);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("-")]
    [InlineData("Mozilla/5.0")]
    public void Missing_or_empty_agents_are_an_unknown_device(string? userAgent)
    {
        var device = UserAgentParser.Parse(userAgent);
        Assert.Equal(("Other", DeviceTypes.Other), (device.Browser, device.Type));
    }
}
