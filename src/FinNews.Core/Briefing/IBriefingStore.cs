namespace FinNews.Core.Briefing;

/// <summary>Briefings: editions and their versions, analysts' edits and approvals.</summary>
/// <remarks>
/// A briefing saved under a new id becomes the next version of its edition and supersedes the earlier ones; saving the
/// same id again only refreshes its content. An edit keeps the writer's original and clears any approval.
/// </remarks>
public interface IBriefingStore
{
    void SaveBriefing(BriefingDocument briefing);

    BriefingDocument? GetBriefing(string id);

    /// <summary>The current version of the newest edition.</summary>
    BriefingDocument? LatestBriefing();

    /// <summary>The stored JSON of <see cref="LatestBriefing"/>, or null: what a cache of its renderings compares.</summary>
    string? LatestBriefingJson();

    /// <summary>Briefing headers, newest edition first; only current versions unless <paramref name="allVersions"/>.</summary>
    IReadOnlyList<BriefingSummary> ListBriefings(int skip, int take, bool allVersions = false);

    /// <summary>Every version of one edition, newest first.</summary>
    IReadOnlyList<BriefingSummary> BriefingVersions(DateOnly edition);

    /// <summary>Marks a briefing approved; false if unknown.</summary>
    bool ApproveBriefing(string id, string approvedBy, DateTimeOffset at);

    /// <summary>When and by whom a briefing was approved, if it was.</summary>
    (DateTimeOffset At, string By)? Approval(string id);

    /// <summary>Replaces a briefing with an analyst's edit (the first edit keeps the original); clears any approval.</summary>
    void SaveEditedBriefing(BriefingDocument edited);

    /// <summary>How many briefings <see cref="ListBriefings"/> lists.</summary>
    long CountBriefings(bool allVersions = false);

    /// <summary>
    /// Every approved briefing, any version, in order of the instant it covers (oldest first, then by creation and id):
    /// the material of the fine-tuning dataset.
    /// </summary>
    IReadOnlyList<ApprovedBriefing> ApprovedBriefings();
}

/// <summary>An analyst-approved briefing as stored (after any edit), with who approved it and when.</summary>
public sealed record ApprovedBriefing(BriefingDocument Briefing, DateTimeOffset ApprovedAt, string ApprovedBy, bool Edited);

