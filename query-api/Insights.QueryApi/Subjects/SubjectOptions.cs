using System.ComponentModel.DataAnnotations;
using Insights.Storage;

namespace Insights.QueryApi.Subjects;

/// <summary>Limits of the subject requests, export and erasure of a person's data (section <c>Subjects</c>).</summary>
public sealed class SubjectOptions
{
    public const string Section = "Subjects";

    /// <summary>
    /// Encoded bytes of all the ids a subject may resolve to (its visitor ids, user ids, e-mail hashes, chats, orders),
    /// counted as the look-ups count them (<c>LookupChunks.EncodedBytes</c>: what one Array(String) parameter costs in
    /// the URL). Every statement carries them in one parameter, which ClickHouse caps at 128 KiB; more also means a
    /// shared id (a "test@test.com" everyone typed) pulling in many people. Past it the request is refused (422
    /// <c>subject_too_large</c>) rather than half done.
    /// </summary>
    [Range(LookupChunks.MinBudgetBytes, LookupChunks.MaxBudgetBytes)]
    public int MaxSubjectIdBytes { get; set; } = LookupChunks.DefaultBudgetBytes;

    /// <summary>Rounds of following the identity graph's links out from the subject (a person's ids are a few hops
    /// apart: visitor – user – e-mail – chat – visitor). More finds longer chains and costs a query each.</summary>
    [Range(1, 100)]
    public int MaxLinkRounds { get; set; } = 16;

    /// <summary>max_execution_time of each export and delete statement. Deletes of a busy visitor over a large events
    /// table take longer than a report; longer holds the request (and ClickHouse) longer before a 503.</summary>
    [Range(1, 3600)]
    public int StatementTimeoutSeconds { get; set; } = 300;
}
