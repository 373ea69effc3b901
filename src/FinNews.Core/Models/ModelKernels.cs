using FinNews.Core.Briefing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;

namespace FinNews.Core.Models;

/// <summary>
/// One Semantic Kernel <see cref="Kernel"/> per configured model profile of <c>config/models.json</c>: the profile's
/// chat model (OpenAI SDK through Microsoft.Extensions.AI, <c>AsIChatClient</c>) registered in the kernel with
/// <c>AddChatClient</c>, behind Semantic Kernel's automatic function calling and a token counter; embedding profiles
/// register their <c>AsIEmbeddingGenerator</c>. Every kernel carries the ask filters (<see cref="AskToolFilter"/>,
/// <see cref="AskBoundsFilter"/>, <see cref="CitationFilter"/>); the <see cref="NewsPlugin"/> tools are added to the
/// per-request clone of an ask.
/// </summary>
/// <remarks>
/// A profile that is disabled or lacks its key has no kernel: callers ask <see cref="Find"/> and fall back (extractive
/// writer and answers, hashing embeddings) with the reason. Kernels are shared; a request that needs state of its own
/// (an ask) works on <see cref="Kernel.Clone"/>.
/// </remarks>
public sealed class ModelKernels
{
    private readonly Dictionary<string, Kernel> _kernels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _reasons = new(StringComparer.Ordinal);

    /// <param name="profiles">The profiles of config/models.json.</param>
    /// <param name="time">Clock for retry waits.</param>
    /// <param name="validator">Checks answers (the citation filter).</param>
    /// <param name="relevance">Decides whether cited sources cover the question.</param>
    /// <param name="loggerFactory">Logging inside the kernel.</param>
    /// <param name="environment">Reads API key variables (default: the process environment).</param>
    public ModelKernels(ModelProfiles profiles, TimeProvider time, CitationValidator validator, Relevance relevance,
        ILoggerFactory? loggerFactory = null, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        foreach (var profile in profiles.All)
        {
            var configured = profiles.Configured(profile.Name, out var reason, environment);
            if (configured is null)
            {
                _reasons[profile.Name] = reason!;
                continue;
            }

            _kernels[profile.Name] = Build(configured, time, validator, relevance, loggerFactory, environment);
        }
    }

    /// <summary>The kernel of a profile, or null with the reason it is not usable.</summary>
    public Kernel? Find(string profile, out string? reason)
    {
        if (_kernels.TryGetValue(profile, out var kernel))
        {
            reason = null;
            return kernel;
        }

        reason = _reasons.GetValueOrDefault(profile) ?? $"no model profile named '{profile}' is defined";
        return null;
    }

    /// <summary>Builds the kernel of one profile.</summary>
    /// <param name="decorate">Wraps the profile's chat client under the token counter (evaluation records raw replies with it).</param>
    public static Kernel Build(ModelProfile profile, TimeProvider time, CitationValidator validator, Relevance relevance,
        ILoggerFactory? loggerFactory = null, Func<string, string?>? environment = null, Func<IChatClient, IChatClient>? decorate = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var builder = Kernel.CreateBuilder();
        builder.Services.AddSingleton(profile);
        if (loggerFactory is not null)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        if (profile.Name == ModelProfiles.Embedding)
        {
            builder.Services.AddEmbeddingGenerator(ModelClients.Embeddings(profile, time, environment));
        }
        else
        {
            var tokenizer = ModelTokenizer.For(profile.Model);
            // Function calling above the token counter, so every round trip to the model is counted.
            var client = ModelClients.Chat(profile, time, environment);
            var chat = new TokenCountingChatClient(decorate is null ? client : decorate(client), tokenizer)
                .AsBuilder()
                .UseKernelFunctionInvocation(loggerFactory)
                .Build();
            // The last allowed round is offered no tools, so the model has to answer (M.E.AI FunctionInvokingChatClient).
            chat.GetService<FunctionInvokingChatClient>()!.MaximumIterationsPerRequest = profile.MaxToolSteps;
            builder.Services.AddSingleton(tokenizer);
            builder.Services.AddChatClient(chat);
        }

        var kernel = builder.Build();
        kernel.FunctionInvocationFilters.Add(new AskToolFilter());
        kernel.FunctionInvocationFilters.Add(new CitationFilter(validator, relevance));
        kernel.AutoFunctionInvocationFilters.Add(new AskBoundsFilter());
        return kernel;
    }
}
