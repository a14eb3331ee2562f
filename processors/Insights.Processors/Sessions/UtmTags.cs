using Insights.Contracts;

namespace Insights.Processors.Sessions;

/// <summary>The UTM tags of a page view: the envelope's fields, else the landing URL's query (the tracker sends the URL).</summary>
internal readonly record struct UtmTags(string Source, string Medium, string Campaign, string Term, string Content)
{
    public static UtmTags Of(PipelineEvent e)
    {
        if (!string.IsNullOrEmpty(e.UtmSource) || !string.IsNullOrEmpty(e.UtmMedium) || !string.IsNullOrEmpty(e.UtmCampaign))
        {
            return new(e.UtmSource ?? "", e.UtmMedium ?? "", e.UtmCampaign ?? "", e.UtmTerm ?? "", e.UtmContent ?? "");
        }

        var url = e.Url;
        var question = url?.IndexOf('?', StringComparison.Ordinal) ?? -1;
        if (question < 0 || !url!.Contains("utm_", StringComparison.OrdinalIgnoreCase))
        {
            return new("", "", "", "", "");
        }

        string source = "", medium = "", campaign = "", term = "", content = "";
        var end = url.IndexOf('#', question);
        var query = url.AsSpan(question + 1, (end < 0 ? url.Length : end) - question - 1);
        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            var equals = pair.IndexOf('=');
            if (equals <= 0)
            {
                continue;
            }

            var name = pair[..equals];
            var value = Uri.UnescapeDataString(pair[(equals + 1)..].ToString().Replace('+', ' '));
            if (value.Length > 200)
            {
                value = value[..200];
            }

            if (name.Equals("utm_source", StringComparison.OrdinalIgnoreCase))
            {
                source = value;
            }
            else if (name.Equals("utm_medium", StringComparison.OrdinalIgnoreCase))
            {
                medium = value;
            }
            else if (name.Equals("utm_campaign", StringComparison.OrdinalIgnoreCase))
            {
                campaign = value;
            }
            else if (name.Equals("utm_term", StringComparison.OrdinalIgnoreCase))
            {
                term = value;
            }
            else if (name.Equals("utm_content", StringComparison.OrdinalIgnoreCase))
            {
                content = value;
            }
        }

        return new(source, medium, campaign, term, content);
    }
}
