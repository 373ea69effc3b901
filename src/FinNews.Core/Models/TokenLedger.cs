using System.Text.Json;
using Microsoft.Extensions.AI;

namespace FinNews.Core.Models;

/// <summary>
/// Token figures of the model calls made while it is current (an async-local scope opened by <see cref="Begin"/>):
/// the prompt tokens counted before each call with the profile's tokenizer, and the input and output tokens the
/// endpoint reported.
/// </summary>
public sealed class TokenLedger
{
    private static readonly AsyncLocal<TokenLedger?> CurrentLedger = new();
    private readonly List<int> _counted = [];

    /// <summary>The ledger of the calling flow, if one is open.</summary>
    public static TokenLedger? Current => CurrentLedger.Value;

    /// <summary>The tokenizer's encoding, or the estimate label.</summary>
    public string? Encoding { get; private set; }

    /// <summary>True when every count came from the model family's tokenizer.</summary>
    public bool Exact { get; private set; } = true;

    /// <summary>Prompt tokens counted per call, in order.</summary>
    public IReadOnlyList<int> CountedPromptTokens => _counted;

    /// <summary>Prompt tokens the endpoint reported, all calls.</summary>
    public long InputTokens { get; private set; }

    /// <summary>Completion tokens the endpoint reported, all calls.</summary>
    public long OutputTokens { get; private set; }

    /// <summary>Opens a ledger for the calling flow; disposing the scope restores the one before.</summary>
    public static Scope Begin(TokenLedger ledger)
    {
        var previous = CurrentLedger.Value;
        CurrentLedger.Value = ledger;
        return new Scope(previous);
    }

    internal void Counted(int tokens, ModelTokenizer tokenizer)
    {
        lock (_counted)
        {
            _counted.Add(tokens);
            Encoding ??= tokenizer.Encoding;
            Exact &= tokenizer.Exact;
        }
    }

    internal void Reported(UsageDetails? usage)
    {
        if (usage is null)
        {
            return;
        }

        lock (_counted)
        {
            InputTokens += usage.InputTokenCount ?? 0;
            OutputTokens += usage.OutputTokenCount ?? 0;
        }
    }

    /// <summary>Restores the previous ledger.</summary>
    public readonly struct Scope(TokenLedger? previous) : IDisposable
    {
        /// <inheritdoc/>
        public void Dispose() => CurrentLedger.Value = previous;
    }
}

/// <summary>
/// Sits next to the model in a kernel's chat pipeline (below automatic function calling, so it sees every round trip):
/// counts each request's prompt tokens with the profile's tokenizer and records them, with the usage the endpoint
/// reports, in the current <see cref="TokenLedger"/>.
/// </summary>
public sealed class TokenCountingChatClient(IChatClient inner, ModelTokenizer tokenizer) : DelegatingChatClient(inner)
{
    /// <summary>The tokenizer of the profile's model family.</summary>
    public ModelTokenizer Tokenizer => tokenizer;

    /// <inheritdoc/>
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? messages.ToList();
        TokenLedger.Current?.Counted(Count(list), tokenizer);
        var response = await base.GetResponseAsync(list, options, cancellationToken);
        TokenLedger.Current?.Reported(response.Usage);
        return response;
    }

    /// <inheritdoc/>
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? messages.ToList();
        var ledger = TokenLedger.Current;
        ledger?.Counted(Count(list), tokenizer);
        await foreach (var update in base.GetStreamingResponseAsync(list, options, cancellationToken))
        {
            foreach (var usage in update.Contents.OfType<UsageContent>())
            {
                ledger?.Reported(usage.Details);
            }

            yield return update;
        }
    }

    /// <summary>Prompt tokens of a request: text, tool calls (name and arguments) and tool results of every message.</summary>
    public int Count(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return tokenizer.CountChat(messages.Select(m => (m.Role.Value, Content(m))));
    }

    private static string Content(ChatMessage message)
    {
        var parts = new List<string>();
        foreach (var c in message.Contents)
        {
            switch (c)
            {
                case TextContent t:
                    parts.Add(t.Text);
                    break;
                case FunctionCallContent call:
                    parts.Add(call.Name + JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), ModelJsonContext.Default.IDictionaryStringObject));
                    break;
                case FunctionResultContent result:
                    parts.Add(result.Result as string ?? result.Result?.ToString() ?? "");
                    break;
                default:
                    break;
            }
        }

        return string.Concat(parts);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(IDictionary<string, object?>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
[System.Text.Json.Serialization.JsonSerializable(typeof(int))]
[System.Text.Json.Serialization.JsonSerializable(typeof(long))]
[System.Text.Json.Serialization.JsonSerializable(typeof(double))]
[System.Text.Json.Serialization.JsonSerializable(typeof(bool))]
[System.Text.Json.Serialization.JsonSerializable(typeof(JsonElement))]
internal sealed partial class ModelJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
