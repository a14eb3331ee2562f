using System.ComponentModel.DataAnnotations;

namespace Insights.Ingest.Privacy;

/// <summary>Settings of cookieless visitor ids (section <c>Privacy</c>); which sites are cookieless is per site (<c>Sites:n:Cookieless</c>).</summary>
public sealed class PrivacyOptions
{
    public const string Section = "Privacy";

    /// <summary>
    /// A secret from which each day's salt is derived, so every ingest instance, and a restarted one, gives a visitor
    /// the same id all day. Unset: each process draws a random salt per day and keeps it only in memory, which forgets
    /// it for good at midnight, but a restart or a second instance splits that day's visitors. Whoever holds the seed
    /// can recompute past days' salts: keep it secret, and replace it to forget them.
    /// </summary>
    [MinLength(32)]
    public string? CookielessSeed { get; set; }
}
