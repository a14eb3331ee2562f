using System.Text;

namespace Insights.Enrichment.Company;

/// <summary>
/// The curated rule that keeps consumer ISPs, mobile carriers, hosters, CDNs and anonymizers from ever being shown
/// as a company (Leadfeeder's rule: residential traffic is filtered out). Everything it does not recognise is an
/// organization — an AS holder such as "Alberta Health Services", a university or a bank.
/// </summary>
/// <remarks>
/// Well-known AS numbers decide first (exact, and immune to renames); then words in the organization's name, matched
/// on word boundaries so "Hostess Brands" is not a hoster and "Orange County" is not Orange S.A. When several rules
/// match, the stronger kind wins: anonymizer, then CDN, hosting, mobile, consumer ISP ("Vodafone Cloud" is hosting).
/// </remarks>
internal static class NetworkClassifier
{
    private static readonly Dictionary<long, (string Kind, string Reason)> ByAsn = BuildAsnRules();
    private static readonly Dictionary<string, (string Kind, string Reason)> ByWord = new(StringComparer.Ordinal);
    private static readonly List<(string Phrase, string Kind, string Reason)> ByPhrase = [];
    private static readonly List<(string Prefix, string Kind, string Reason)> ByPrefix = [];

    static NetworkClassifier()
    {
        Rules(NetworkKinds.Anonymizer,
            "vpn", "proxy", "tor exit", "nordvpn", "expressvpn", "express vpn", "private internet access", "london trust media",
            "mullvad", "31173 services", "proton ag", "protonvpn", "surfshark", "windscribe", "ipvanish", "cyberghost",
            "hide me", "packethub", "tefincom", "zscaler", "netskope", "private relay", "anonymous");
        Rules(NetworkKinds.Cdn,
            "cloudflare", "akamai", "fastly", "edgecast", "edgio", "limelight", "stackpath", "cdn", "cdn77", "bunnyway",
            "cachefly", "incapsula", "imperva", "sucuri", "content delivery");
        Rules(NetworkKinds.Hosting,
            "hosting", "hoster", "webhosting", "web hosting", "hostpapa", "hostinger", "hostwinds", "host europe", "vps", "vds",
            "dedicated server", "dedicated servers", "servers com", "data center", "datacenter", "datacentre", "data centre",
            "colocation", "colocrossing", "cloud", "amazon", "aws", "google", "microsoft", "azure", "digitalocean", "ovh",
            "hetzner", "linode", "vultr", "the constant company", "choopa", "leaseweb", "contabo", "scaleway", "online s a s",
            "alibaba", "aliyun", "tencent", "oracle", "softlayer", "rackspace", "godaddy", "ionos", "1&1", "strato", "netcup",
            "psychz", "quadranet", "m247", "datacamp", "g core", "gcore", "zenlayer", "namecheap", "clouvider",
            "stark industries", "kamatera", "upcloud", "equinix", "hivelocity", "selectel", "timeweb", "aeza", "servinga",
            "frantech", "buyvm", "ponynet", "serverius", "worldstream", "nforce", "hostkey", "psychz networks", "heroku",
            "vercel", "netlify", "fly io", "packet host", "cyrusone", "flexential", "digital realty");
        Rules(NetworkKinds.Mobile,
            "mobile", "mobility", "wireless", "cellular", "cellco", "t mobile", "vodafone", "telcel", "movistar", "claro",
            "tim s a", "jio", "airtel", "three uk", "hi3g", "mobinil", "etisalat", "safaricom", "mtn", "viettel", "telkomsel", "telekomunikasi selular",
            "sk telecom", "docomo", "china mobile", "wind tre", "tele2", "hutchison", "ee limited", "o2", "orange mobile",
            "bouygues telecom", "free mobile", "iliad", "globe telecom", "smart communications", "dtac");
        Rules(NetworkKinds.ConsumerIsp,
            "telecom*", "telekom*", "telecommunication*", "telecomunica*", "telecomunicacoes", "telefonica", "telefonia", "telco",
            "broadband", "cable", "cablevision", "communications", "internet", "isp", "fiber", "fibre", "dsl", "adsl", "wifi",
            "comcast", "verizon", "at&t", "centurylink", "level 3", "qwest",
            "windstream", "altice", "suddenlink", "mediacom", "bell canada", "telus",
            "videotron", "cogeco", "telstra", "optus", "singtel", "kpn", "swisscom", "proximus", "telenor", "telia", "free sas",
            "sfr", "radiotelephone", "orange s a", "orange polska", "orange espagne", "orange belgium", "orange romania", "orange business", "cox communications", "charter communications", "lumen technologies", "hughes network", "deutsche telekom", "virgin media", "sky uk", "british telecommunications",
            "liberty global", "ziggo", "unitymedia", "kabel", "chinanet", "china unicom", "china telecom", "china tietong",
            "kddi", "ntt communications", "ntt america", "softbank", "korea telecom", "sk broadband", "lg powercomm",
            "lg dacom", "chunghwa", "hinet", "pldt", "uninet", "telmex", "rostelecom", "vnpt", "bharat sanchar", "jcom",
            "starlink", "space exploration technologies", "hurricane electric", "cogent", "zayo", "gtt", "arteria",
            "tata communications", "pccw", "hkt", "research network", "forschungsnetz", "forschungsnetzes", "academic network",
            "education and research network", "jisc", "surf b v", "renater", "garr", "rediris", "internet2", "tanet", "cernet",
            "dfn", "nren", "a1 telekom", "salt mobile", "euskaltel", "telepac", "nos comunicacoes",
            "meo", "fastweb", "tiscali", "iinet", "vocus", "aussie broadband", "spark new zealand",
            "bezeq", "partner communications", "turk telekom", "superonline", "millicom", "tigo", "entel", "cantv", "telecentro",
            "net servicos", "oi s a", "ttnet", "megafon", "beeline", "vimpelcom", "kyivstar", "ukrtelecom");
    }

    /// <summary>The kind of network an organization runs, and the rule that said so; business when none matched.</summary>
    public static (string Kind, string Reason) Classify(long? asn, string? organization)
    {
        if (asn is { } number && ByAsn.TryGetValue(number, out var byNumber))
        {
            return byNumber;
        }

        if (string.IsNullOrWhiteSpace(organization))
        {
            return (NetworkKinds.Unknown, "no organization name");
        }

        var normalized = Normalize(organization);
        if (normalized.Length <= 1 || IsAsHandle(normalized))
        {
            return (NetworkKinds.Unknown, "no organization name");
        }

        (string Kind, string Reason)? best = null;
        foreach (var word in normalized.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (ByWord.TryGetValue(word, out var rule))
            {
                best = Stronger(best, rule);
            }

            foreach (var (prefix, kind, reason) in ByPrefix)
            {
                if (word.StartsWith(prefix, StringComparison.Ordinal))
                {
                    best = Stronger(best, (kind, reason));
                }
            }
        }

        foreach (var (phrase, kind, reason) in ByPhrase)
        {
            if (normalized.Contains(phrase, StringComparison.Ordinal))
            {
                best = Stronger(best, (kind, reason));
            }
        }

        return best ?? (NetworkKinds.Business, "organization");
    }

    /// <summary>MaxMind's user_type → kind. Null for a type that says nothing (the name decides then).</summary>
    public static string? KindOfUserType(string? userType) => userType switch
    {
        "business" or "government" or "military" or "college" or "school" or "library" or "education" => NetworkKinds.Business,
        "residential" or "cafe" or "traveler" or "dialup" or "router" => NetworkKinds.ConsumerIsp,
        "cellular" => NetworkKinds.Mobile,
        "hosting" => NetworkKinds.Hosting,
        "content_delivery_network" => NetworkKinds.Cdn,
        "consumer_privacy_network" => NetworkKinds.Anonymizer,
        "search_engine_spider" => NetworkKinds.SearchEngineSpider,
        _ => null,
    };

    /// <summary>Lowercase words separated by single spaces, padded with one space each side (for phrase matching).</summary>
    internal static string Normalize(string text)
    {
        var builder = new StringBuilder(text.Length + 2).Append(' ');
        var space = true;
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c) || c == '&')
            {
                builder.Append(char.ToLowerInvariant(c));
                space = false;
            }
            else if (!space)
            {
                builder.Append(' ');
                space = true;
            }
        }

        if (!space)
        {
            builder.Append(' ');
        }

        return builder.ToString();
    }

    private static bool IsAsHandle(string normalized)
    {
        // " as44477 " or " as 44477 ": the AS has no organization name, only its number.
        var trimmed = normalized.Trim().Replace(" ", "", StringComparison.Ordinal);
        return trimmed.Length > 2 && trimmed.StartsWith("as", StringComparison.Ordinal) && trimmed[2..].All(char.IsAsciiDigit);
    }

    private static (string Kind, string Reason) Stronger((string Kind, string Reason)? current, (string Kind, string Reason) candidate) =>
        current is not { } held || Rank(candidate.Kind) > Rank(held.Kind) ? candidate : held;

    private static int Rank(string kind) => kind switch
    {
        NetworkKinds.Anonymizer => 5,
        NetworkKinds.Cdn => 4,
        NetworkKinds.Hosting => 3,
        NetworkKinds.Mobile => 2,
        NetworkKinds.ConsumerIsp => 1,
        _ => 0,
    };

    private static void Rules(string kind, params string[] keywords)
    {
        foreach (var keyword in keywords)
        {
            var reason = $"name: {keyword.TrimEnd('*')}";
            if (keyword.EndsWith('*'))
            {
                ByPrefix.Add((keyword.TrimEnd('*'), kind, reason));
            }
            else if (keyword.Contains(' ', StringComparison.Ordinal))
            {
                ByPhrase.Add(($" {keyword} ", kind, reason));
            }
            else
            {
                ByWord.TryAdd(keyword, (kind, reason));
            }
        }
    }

    private static Dictionary<long, (string Kind, string Reason)> BuildAsnRules()
    {
        var rules = new Dictionary<long, (string, string)>();
        void Add(string kind, params long[] numbers)
        {
            foreach (var number in numbers)
            {
                rules[number] = (kind, $"AS{number}");
            }
        }

        // Clouds and hosters, including the big ones whose AS also carries their own offices (Amazon, Google,
        // Microsoft): from their AS a visit is overwhelmingly a machine.
        Add(NetworkKinds.Hosting, 16509, 14618, 8987, 15169, 396982, 19527, 8075, 14061, 16276, 24940, 213230, 63949, 20473,
            60781, 28753, 51167, 12876, 45102, 37963, 31898, 36351, 19994, 27357, 26496, 8560, 47583, 197540, 54290, 36352,
            40676, 8100, 9009, 212238, 199524, 21859, 22612, 55990, 62240, 132203, 45090, 53667, 46606, 29802);
        // CDNs; Cloudflare also carries WARP users, Akamai and Fastly Apple's iCloud Private Relay.
        Add(NetworkKinds.Cdn, 13335, 209242, 20940, 16625, 21342, 54113, 15133, 22822, 60068, 30675);
        // Apple's iCloud Private Relay egress (Akamai) and VPN operators.
        Add(NetworkKinds.Anonymizer, 36183, 136787, 39351, 62371, 209854);
        Add(NetworkKinds.Mobile, 21928, 20057, 22394, 6167, 9808, 55836, 45609, 9644, 23693, 26615, 37069);
        Add(NetworkKinds.ConsumerIsp, 16591, 7922, 3320, 3209, 7018, 3215, 5511, 3352, 2856, 5089, 20115, 10796, 11427, 11426, 20001,
            33363, 11351, 22773, 209, 3356, 3549, 701, 702, 2828, 812, 577, 6327, 852, 1221, 4804, 4134, 4837, 4812, 4808,
            9394, 14593, 174, 6939, 5650, 7029, 6128, 1136, 3303, 5432, 12322, 15557, 5410, 4713, 2516, 17676, 4766, 9318,
            3462, 8151, 28573, 3269, 1273, 6805, 6830, 2914, 6461, 3257, 12389, 45899, 17858, 3786, 3301, 1257, 9121, 12479,
            5607, 33915, 30722, 5617, 3292, 26599, 18881, 27699, 22927, 7303, 9829, 6713, 36992, 25019, 26611, 7552, 9824,
            17506, 4230, 1267, 6389, 680, 1103, 786, 4538, 1659, 2907);
        return rules;
    }
}
