namespace FinNews.Core.Tuning;

/// <summary>A tuning job as this installation recorded it: what was submitted, and what the API said last.</summary>
/// <param name="Profile">The model profile whose endpoint and key run the job.</param>
/// <param name="Dataset">The folder (or training file) submitted.</param>
/// <param name="Candidate">The candidate profile the finished model was written to, once it was.</param>
public sealed record TuningJobRecord(string JobId, string Profile, string BaseModel, string? Suffix, string? Dataset, string Status,
    string? FineTunedModel, string? Error, string? Candidate, DateTimeOffset SubmittedAt, DateTimeOffset UpdatedAt);

/// <summary>
/// The tuning jobs submitted from this installation, kept in the system of record: the job id survives the terminal
/// that submitted it, and <c>tune status</c> records each state it sees.
/// </summary>
public interface ITuningJobStore
{
    /// <summary>Records a newly submitted job (a job id already recorded is left as it is).</summary>
    void Add(TuningJobRecord job);

    /// <summary>Records what the API says of a job now (a job submitted elsewhere is recorded too); a null candidate keeps the recorded one.</summary>
    void Update(TuningJobInfo job, string profile, DateTimeOffset at, string? candidate = null);

    /// <summary>A recorded job, or null.</summary>
    TuningJobRecord? Find(string jobId);
}
