using FinNews.Api;
using FinNews.Core;
using FinNews.Jobs;
using FinNews.Web;

namespace FinNews.Hosting;

/// <summary>Builds the process for each role: web (`serve`), scheduler (`worker`), both (`run`), or a CLI tool.</summary>
/// <remarks>
/// Every host takes its clock as an argument: the real one comes only from Program.cs (the composition root), tests
/// pass a FakeTimeProvider, so no code path can read the wall clock by accident.
/// </remarks>
public static class AppHost
{
    /// <summary>The web server, optionally with the scheduler and a start-up pass (`run`).</summary>
    public static WebApplication BuildWeb(AppPaths paths, TimeProvider time, string? urls, bool withScheduler, Action<IHostApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = paths.Root, Args = [] });
        builder.AddFinNewsConfiguration(paths, time);
        configure?.Invoke(builder);
        builder.AddFinNewsLogging(paths);
        builder.AddFinNewsOptions();
        builder.AddFinNewsCore();
        builder.AddFinNewsDelivery();
        builder.AddFinNewsHealth();
        builder.AddFinNewsTelemetry(withScheduler ? "run" : "web");
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi("v1", ApiDocument.Configure);
        // A request the framework cannot bind (a malformed JSON body, a value a typed parameter cannot hold) throws
        // BadHttpRequestException, which ErrorResponses turns into a ProblemDetails whose detail names the parameter;
        // without this it is a bare 400 with no body. Query parameters of the API bind as strings (ApiParameter).
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddAntiforgery();
        builder.Services.AddSingleton<Api.LatestBriefingCache>();
        builder.AddPageAuth(StorageServices.DataDirectory);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.WriteIndented = false);
        builder.WebHost.UseUrls(urls ?? builder.Configuration["Web:Urls"] ?? new WebOptions().Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 1024 * 1024);
        if (withScheduler)
        {
            // Only `run` makes a first pass; `serve` on an empty store says how to write a briefing instead.
            builder.Services.AddSingleton<FirstPassStatus>();
            builder.AddFinNewsJobs(time, runPipelineAtStart: true, PostgresConnectionOrNull());
        }

        var app = builder.Build();
        app.UseFinNewsRequestLogging();
        app.UseSecurityHeaders();
        app.UseErrorResponses();
        app.UseAntiforgery();
        app.UsePageAuth();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapBriefingsApi();
        app.MapSearchApi();
        app.MapFeedsApi();
        app.MapAskApi();
        app.MapSubscribersApi();
        app.MapWebPages();
        app.MapLogin();
        app.MapFinNewsReadiness();
        return app;
    }

    // The scheduler's clustered store reads the same variable as the system of record; unset is an error only when used.
    private static string? PostgresConnectionOrNull() => Environment.GetEnvironmentVariable(StorageOptions.PostgresConnectionVariable);

    /// <summary>The lowest level the console log sink writes (the log file keeps everything); call before the host is built.</summary>
    public static void SetConsoleLogLevel(IHostApplicationBuilder builder, string level)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var sink in builder.Configuration.GetSection("Serilog:WriteTo").GetChildren())
        {
            if (string.Equals(sink["Name"], "Console", StringComparison.OrdinalIgnoreCase))
            {
                builder.Configuration[$"{sink.Path}:Args:restrictedToMinimumLevel"] = level;
            }
        }
    }

    /// <summary>The scheduler alone (`worker`).</summary>
    public static IHost BuildWorker(AppPaths paths, TimeProvider time, Action<IHostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = paths.Root, Args = [] });
        builder.AddFinNewsConfiguration(paths, time);
        configure?.Invoke(builder);
        builder.AddFinNewsLogging(paths);
        builder.AddFinNewsOptions();
        builder.AddFinNewsCore();
        builder.AddFinNewsDelivery();
        builder.AddFinNewsTelemetry("worker");
        builder.Services.AddSingleton<FirstPassStatus>();
        builder.AddFinNewsJobs(time, runPipelineAtStart: false, PostgresConnectionOrNull());
        return builder.Build();
    }

    /// <summary>A host for one CLI command: services and validated options, nothing started. Console logs only warnings.</summary>
    public static IHost BuildTool(AppPaths paths, TimeProvider time, bool verbose, Action<IHostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = paths.Root, Args = [] });
        builder.AddFinNewsConfiguration(paths, time);
        if (!verbose)
        {
            // Progress and results go to stdout; keep the console log (stderr) to what needs attention.
            SetConsoleLogLevel(builder, "Warning");
        }

        configure?.Invoke(builder);
        builder.AddFinNewsLogging(paths);
        builder.AddFinNewsOptions();
        builder.AddFinNewsCore();
        builder.AddFinNewsDelivery();
        var host = builder.Build();
        host.Services.ValidateOptions();
        return host;
    }
}
