using System.ClientModel;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using AI = Microsoft.Extensions.AI;
using OAI = OpenAI.Chat;

namespace FinNews.Core.Models;

/// <summary>
/// <see cref="IChatClient"/> over the OpenAI SDK's <see cref="ChatClient"/>, pointed at any OpenAI-compatible endpoint
/// (OpenAI, Azure OpenAI's v1 API, Ollama, vLLM, llama.cpp server) by a <see cref="ModelProfile"/>.
/// </summary>
/// <remarks>
/// Written here because Microsoft.Extensions.AI.OpenAI is not in this registry. It maps text messages, temperature,
/// output-token cap and response format (JSON schema, JSON, text), and reports token usage in
/// <see cref="ChatResponse.Usage"/> (streaming: a <see cref="UsageContent"/> in the final update). Retries and the
/// per-attempt timeout live in the SDK pipeline (<see cref="ModelRetryPolicy"/>, NetworkTimeout). Tools are not mapped:
/// the briefing writer does not use them.
/// </remarks>
public sealed class OpenAIChatClient : IChatClient
{
    private readonly ChatClient _client;
    private readonly ModelProfile _profile;
    private readonly ChatClientMetadata _metadata;

    /// <param name="profile">Endpoint, model, timeout and retry settings.</param>
    /// <param name="time">Clock for retry waits.</param>
    /// <param name="environment">Reads the API key variable (default: the process environment).</param>
    public OpenAIChatClient(ModelProfile profile, TimeProvider time, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _profile = profile;
        _client = new ChatClient(profile.Model, new ApiKeyCredential(profile.ResolveApiKey(environment)), ClientOptions(profile, time));
        _metadata = new ChatClientMetadata("openai-compatible", profile.Endpoint, profile.Model);
    }

    /// <summary>SDK options shared by the chat and embedding adapters: endpoint, per-attempt timeout, retry policy.</summary>
    internal static OpenAIClientOptions ClientOptions(ModelProfile profile, TimeProvider time) => new()
    {
        Endpoint = profile.Endpoint,
        NetworkTimeout = profile.Timeout,
        RetryPolicy = ModelRetryPolicy.For(profile, time),
        UserAgentApplicationId = "FinNews",
    };

    /// <inheritdoc/>
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AI.ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var completion = (await _client.CompleteChatAsync(ToOpenAI(messages), ToOpenAI(options), cancellationToken)).Value;
        var text = new StringBuilder();
        foreach (var part in completion.Content)
        {
            text.Append(part.Text);
        }

        var message = new AI.ChatMessage(ChatRole.Assistant, completion.Refusal is { Length: > 0 } refusal && text.Length == 0 ? refusal : text.ToString())
        {
            RawRepresentation = completion,
        };
        return new ChatResponse(message)
        {
            ResponseId = completion.Id,
            ModelId = completion.Model,
            CreatedAt = completion.CreatedAt,
            FinishReason = ToFinishReason(completion.FinishReason),
            Usage = ToUsage(completion.Usage),
            RawRepresentation = completion,
        };
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AI.ChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        // The SDK asks for stream_options.include_usage itself, so the last chunk carries the token counts.
        await foreach (var update in _client.CompleteChatStreamingAsync(ToOpenAI(messages), ToOpenAI(options), cancellationToken)
            .WithCancellation(cancellationToken))
        {
            var contents = new List<AIContent>();
            foreach (var part in update.ContentUpdate)
            {
                if (!string.IsNullOrEmpty(part.Text))
                {
                    contents.Add(new TextContent(part.Text));
                }
            }

            if (update.Usage is { } usage)
            {
                contents.Add(new UsageContent(ToUsage(usage)!));
            }

            yield return new ChatResponseUpdate(ChatRole.Assistant, contents)
            {
                ResponseId = update.CompletionId,
                MessageId = update.CompletionId,
                ModelId = update.Model,
                CreatedAt = update.CreatedAt,
                FinishReason = update.FinishReason is { } reason ? ToFinishReason(reason) : null,
                RawRepresentation = update,
            };
        }
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return _metadata;
        }

        if (serviceType == typeof(ModelProfile))
        {
            return _profile;
        }

        return serviceType.IsInstanceOfType(_client) ? _client : serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // The SDK client owns no disposable state of ours (it shares the pipeline's HttpClient).
    }

    private static List<OAI.ChatMessage> ToOpenAI(IEnumerable<AI.ChatMessage> messages)
    {
        var list = new List<OAI.ChatMessage>();
        foreach (var m in messages)
        {
            var text = m.Text;
            if (m.Role == ChatRole.System)
            {
                list.Add(new SystemChatMessage(text));
            }
            else if (m.Role == ChatRole.Assistant)
            {
                list.Add(new AssistantChatMessage(text));
            }
            else if (m.Role == ChatRole.User)
            {
                list.Add(new UserChatMessage(text));
            }
            else
            {
                throw new NotSupportedException($"Chat role '{m.Role}' is not mapped by {nameof(OpenAIChatClient)}.");
            }
        }

        return list;
    }

    private ChatCompletionOptions ToOpenAI(ChatOptions? options)
    {
        var result = new ChatCompletionOptions
        {
            Temperature = options?.Temperature ?? _profile.Temperature,
            MaxOutputTokenCount = options?.MaxOutputTokens ?? _profile.MaxOutputTokens,
        };
        if (options?.ResponseFormat is ChatResponseFormatJson json)
        {
            result.ResponseFormat = json.Schema is { } schema
                ? OAI.ChatResponseFormat.CreateJsonSchemaFormat(json.SchemaName ?? "response", BinaryData.FromString(schema.GetRawText()),
                    json.SchemaDescription, jsonSchemaIsStrict: true)
                : OAI.ChatResponseFormat.CreateJsonObjectFormat();
        }

        return result;
    }

    private static AI.ChatFinishReason ToFinishReason(OAI.ChatFinishReason reason) => reason switch
    {
        OAI.ChatFinishReason.Stop => AI.ChatFinishReason.Stop,
        OAI.ChatFinishReason.Length => AI.ChatFinishReason.Length,
        OAI.ChatFinishReason.ContentFilter => AI.ChatFinishReason.ContentFilter,
        OAI.ChatFinishReason.ToolCalls or OAI.ChatFinishReason.FunctionCall => AI.ChatFinishReason.ToolCalls,
        _ => new AI.ChatFinishReason(reason.ToString().ToLowerInvariant()),
    };

    private static UsageDetails? ToUsage(ChatTokenUsage? usage) => usage is null
        ? null
        : new UsageDetails
        {
            InputTokenCount = usage.InputTokenCount,
            OutputTokenCount = usage.OutputTokenCount,
            TotalTokenCount = usage.TotalTokenCount,
        };
}
