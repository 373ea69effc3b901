using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using FinNews.Core.Briefing;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using FunctionCallContent = Microsoft.Extensions.AI.FunctionCallContent;
using FunctionResultContent = Microsoft.Extensions.AI.FunctionResultContent;
using FunctionInvocationContext = Microsoft.SemanticKernel.FunctionInvocationContext;

namespace FinNews.Core.Models;

/// <summary>
/// Kernel filter on every <see cref="NewsPlugin"/> call: turns the tool's <see cref="NewsToolResult"/> into numbered,
/// fenced sources of the request's <see cref="AskSession"/> (within its context budget) and records the step, so every
/// tool result becomes a numbered source whatever path invoked the tool.
/// </summary>
public sealed class AskToolFilter : IFunctionInvocationFilter
{
    /// <inheritdoc/>
    public async Task OnFunctionInvocationAsync(FunctionInvocationContext context, Func<FunctionInvocationContext, Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        await next(context);
        if (context.Function.PluginName != NewsPlugin.PluginName || context.Result.GetValue<object>() is not NewsToolResult result)
        {
            return;
        }

        var session = context.Kernel.Data.TryGetValue(AskSession.DataKey, out var value) ? value as AskSession : null;
        var arguments = Arguments(context.Arguments);
        var tool = $"{NewsPlugin.PluginName}_{context.Function.Name}";
        // Outside an ask (a direct call) the sources are numbered on their own, so the text still reads the same way.
        var text = session?.Register(Math.Max(1, session.ToolRounds), tool, arguments, result)
            ?? string.Join("\n", result.Sources.Select((s, i) => AskSession.Fence(i + 1, s)).Prepend(result.Summary));
        context.Result = new FunctionResult(context.Result, text);
    }

    /// <summary>The model's arguments as one readable line (<c>query="Kelvane Sorrel", tickers="KLVP"</c>).</summary>
    internal static string Arguments(KernelArguments arguments) => string.Join(", ", arguments
        .Where(a => a.Value is not null and not CancellationToken)
        .Select(a => a.Value switch
        {
            string s => $"{a.Key}=\"{s}\"",
            System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.String } e => $"{a.Key}=\"{e.GetString()}\"",
            System.Text.Json.JsonElement e => $"{a.Key}={e.GetRawText()}",
            _ => string.Create(CultureInfo.InvariantCulture, $"{a.Key}={a.Value}"),
        }));
}

/// <summary>
/// Kernel filter on automatic function calling: bounds an <c>ask</c> in steps (model round trips that call tools),
/// time and prompt tokens, and refuses tools outside <see cref="NewsPlugin"/>. When a bound is reached the loop stops
/// (<c>Terminate</c>) and the session carries a note that says which bound.
/// </summary>
/// <remarks>
/// Steps are also capped in the chat pipeline (<c>MaximumIterationsPerRequest</c>), which offers the model no tools
/// on its last round so that it must answer; this filter is the bound for time and tokens, and the second line of
/// defence for steps.
/// </remarks>
public sealed class AskBoundsFilter : IAutoFunctionInvocationFilter
{
    /// <inheritdoc/>
    public async Task OnAutoFunctionInvocationAsync(AutoFunctionInvocationContext context, Func<AutoFunctionInvocationContext, Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (!context.Kernel.Data.TryGetValue(AskSession.DataKey, out var value) || value is not AskSession session)
        {
            await next(context);
            return;
        }

        var step = context.RequestSequenceIndex + 1;
        session.ToolRounds = Math.Max(session.ToolRounds, step);
        var tool = $"{context.Function.PluginName}_{context.Function.Name}";
        var arguments = context.Arguments is null ? "" : AskToolFilter.Arguments(context.Arguments);
        string? stop = null;
        if (context.Function.PluginName != NewsPlugin.PluginName)
        {
            stop = $"The model asked for {tool}, which is not one of the ask tools; it was refused.";
        }
        else if (step > session.Profile.MaxToolSteps)
        {
            stop = string.Create(CultureInfo.InvariantCulture,
                $"The model was still calling tools after {session.Profile.MaxToolSteps} steps; the tool loop was stopped there.");
        }
        else if (session.Elapsed > session.Profile.AskTimeout)
        {
            stop = string.Create(CultureInfo.InvariantCulture,
                $"The ask reached its time limit ({session.Profile.AskTimeout.TotalSeconds:0} s); the tool loop was stopped.");
        }
        else if (TokenLedger.Current is { } ledger && ledger.CountedPromptTokens.Sum() > session.Profile.AskTokenBudget)
        {
            stop = string.Create(CultureInfo.InvariantCulture,
                $"The ask used its prompt-token budget ({session.Profile.AskTokenBudget}); the tool loop was stopped.");
        }
        else if (session.SourceTokens >= session.SourceBudget)
        {
            stop = string.Create(CultureInfo.InvariantCulture,
                $"The sources filled the model's context budget ({session.SourceBudget} tokens); the tool loop was stopped.");
        }

        if (stop is null)
        {
            await next(context);
            return;
        }

        session.Note(stop);
        session.RecordRefused(step, tool, arguments, stop);
        context.Result = new FunctionResult(context.Function, stop);
        context.Terminate = true;
    }
}

/// <summary>
/// Kernel filter on the answerer's prompt function (<see cref="PromptLibrary.AskFunctionName"/>): the model's final
/// text is read as cited sentences and checked by the <see cref="CitationValidator"/> against the sources that tools
/// returned in this request; sentences that fail are dropped and recorded, and an answer none of whose cited sources
/// passes the <see cref="Relevance"/> rule abstains. Because it is a kernel filter, every invocation of the function,
/// streaming or not, is checked; the checked answer is left in <see cref="AskSession.Checked"/> (and, not streaming,
/// as the function's result).
/// </summary>
public sealed class CitationFilter(CitationValidator validator, Relevance relevance) : IFunctionInvocationFilter
{
    /// <inheritdoc/>
    public async Task OnFunctionInvocationAsync(FunctionInvocationContext context, Func<FunctionInvocationContext, Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        await next(context);
        if (context.Function.Name != PromptLibrary.AskFunctionName)
        {
            return;
        }

        var session = context.Kernel.Data.TryGetValue(AskSession.DataKey, out var value) ? value as AskSession : null;
        if (context.IsStreaming)
        {
            var stream = context.Result.GetValue<IAsyncEnumerable<ChatResponseUpdate>>();
            if (stream is not null)
            {
                context.Result = new FunctionResult(context.Result, Checked(stream, context.Kernel, session));
            }

            return;
        }

        var response = context.Result.GetValue<object>() as ChatResponse;
        if (session is not null && response is not null)
        {
            session.EndedOnToolCall = response.Messages.LastOrDefault()?.Contents.OfType<FunctionCallContent>().Any() == true;
            foreach (var call in response.Messages.SelectMany(m => m.Contents.OfType<FunctionCallContent>()))
            {
                NoteInvented(context.Kernel, session, call);
            }
        }

        var answer = Check(session, FinalText(response?.Messages ?? []));
        context.Result = new FunctionResult(context.Result, AnswerService.Join(answer.Sentences));
    }

    /// <summary>The text of the model's last message that is not a tool call: its answer.</summary>
    public static string FinalText(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var last = messages.LastOrDefault(m => m.Role == ChatRole.Assistant && !m.Contents.OfType<FunctionCallContent>().Any());
        var anyAfterLastTool = messages.Reverse().TakeWhile(m => m.Role != ChatRole.Tool).Contains(last);
        return last is not null && anyAfterLastTool ? last.Text : "";
    }

    // A tool the model made up is never run (automatic function calling answers it "not found"); the reader is told.
    private static void NoteInvented(Kernel kernel, AskSession session, FunctionCallContent call)
    {
        var name = call.Name ?? "";
        var cut = name.IndexOf('_', StringComparison.Ordinal);
        if (cut > 0 && kernel.Plugins.TryGetFunction(name[..cut], name[(cut + 1)..], out _))
        {
            return;
        }

        var why = $"The model asked for a tool that does not exist ({name}); it was not run, and the model was told so.";
        if (!session.Notes.Contains(why))
        {
            session.Note(why);
            session.RecordRefused(Math.Max(1, session.ToolRounds), name, "", why);
        }
    }

    private async IAsyncEnumerable<ChatResponseUpdate> Checked(IAsyncEnumerable<ChatResponseUpdate> stream, Kernel kernel, AskSession? session,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Only the text after the last tool round is the answer; text the model wrote while still calling tools is not.
        var text = new StringBuilder();
        await foreach (var update in stream.WithCancellation(cancellationToken))
        {
            if (update.Contents.Any(c => c is FunctionCallContent or FunctionResultContent))
            {
                text.Clear();
                if (session is not null)
                {
                    foreach (var call in update.Contents.OfType<FunctionCallContent>())
                    {
                        NoteInvented(kernel, session, call);
                    }
                }
            }
            else
            {
                text.Append(update.Text);
            }

            yield return update;
        }

        Check(session, text.ToString());
    }

    private CheckedAnswer Check(AskSession? session, string text)
    {
        var sources = session?.Sources ?? [];
        var byNumber = sources.ToDictionary(s => s.Numbered.Number, s => s.Numbered);
        var notes = new List<string>();
        var report = validator.Validate(AnswerService.Substantive(AnswerService.ParseSentences(text)), byNumber);
        var dropped = report.Violations
            .Select(v => new DroppedSentence(AnswerService.Render(new AnswerSentence(v.Bullet.Text, v.Bullet.Citations)), v.Reasons)).ToList();
        var kept = report.Checks.Where(c => c.Passed).Select(c => new AnswerSentence(c.Bullet.Text, c.Bullet.Citations.Distinct().ToList())).ToList();
        if (dropped.Count > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{dropped.Count} sentence(s) of the model's answer were removed because they failed citation checks."));
        }

        if (kept.Count > 0 && session is not null)
        {
            var terms = relevance.Terms(session.Question);
            var cited = kept.SelectMany(s => s.Citations).Distinct().Select(n => session.Source(n)).OfType<AskSource>().ToList();
            if (!cited.Exists(s => Relevance.IsRelevant(terms, $"{s.Source.Title}\n{s.Text}", s.Tickers.ToList())))
            {
                notes.Add("The model's answer cited no source that covers the question's terms, so it was withheld.");
                dropped.AddRange(kept.Select(s => new DroppedSentence(AnswerService.Render(s), ["no cited source covers the question"])));
                kept = [];
            }
        }

        var answer = new CheckedAnswer(kept, dropped, notes);
        if (session is not null)
        {
            session.Checked = answer;
        }

        return answer;
    }
}
