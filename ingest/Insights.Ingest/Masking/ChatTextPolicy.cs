using Insights.Contracts;

namespace Insights.Ingest.Masking;

/// <summary>
/// What of a chat message's text may reach Kafka, per site: nothing unless the site stores chat text
/// (<see cref="SiteOptions.StoreChatText"/>); then the text with card numbers masked, and e-mail addresses too when
/// the site asks (<see cref="SiteOptions.MaskEmailsInChat"/>). Every path that produces chat_message events applies it.
/// </summary>
public static class ChatTextPolicy
{
    /// <summary>The text as the site may keep it, or null.</summary>
    public static string? Apply(SiteOptions site, string? text)
    {
        ArgumentNullException.ThrowIfNull(site);
        if (!site.StoreChatText || string.IsNullOrEmpty(text))
        {
            return null;
        }

        var masked = CardNumberMasker.Mask(text);
        return site.MaskEmailsInChat ? EmailMasker.Mask(masked) : masked;
    }

    /// <summary>Applies the site's rule to every chat message of a batch (the events are replaced, not changed).</summary>
    public static void Apply(SiteOptions site, List<PipelineEvent> events)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(events);
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i] is { MessageText: { } text } e)
            {
                var kept = Apply(site, text);
                if (!ReferenceEquals(kept, text))
                {
                    events[i] = e with { MessageText = kept };
                }
            }
        }
    }
}
