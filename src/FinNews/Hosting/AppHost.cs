using FinNews.Api;
using FinNews.Jobs;
using FinNews.Web;

namespace FinNews.Hosting;

/// <summary>Builds the process for each role: web (`serve`), scheduler (`worker`), both (`run`), or a CLI tool.</summary>
public static class AppHost
{
    /// <summary>The web server, optionally with the scheduler and a start-up pass (`run`).</summary>
    public static WebApplication BuildWeb(AppPaths paths, string? urls, bool withScheduler, Action<IHostApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = paths.Root, Args = [] });
        builder.AddFinNewsConfiguration(paths);
        configure?.Invoke(builder);
        builder.AddFinNewsLogging(paths);
        builder.AddFinNewsOptions();
        builder.AddFinNewsCore();
        builder.AddFinNewsDelivery();
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi("v1");
        builder.Services.AddAntiforgery();
        builder.AddPageAuth();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.WriteIndented = false);
        builder.Services.AddSingleton<FirstPassStatus>();
        builder.WebHost.UseUrls(urls ?? builder.Configuration["Web:Urls"] ?? new WebOptions().Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 1024 * 1024);
        if (withScheduler)
        {
            builder.AddFinNewsJobs(paths, runPipelineAtStart: true);
        }

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseSecurityHeaders();
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
        return app;
    }

    /// <summary>The scheduler alone (`worker`).</summary>
    public static IHost BuildWorker(AppPaths paths, Action<IHostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = paths.Root, Args = [] });
        builder.AddFinNewsConfiguration(paths);
        configure?.Invoke(builder);
        builder.AddFinNewsLogging(paths);
        builder.AddFinNewsOptions();
        builder.AddFinNewsCore();
        builder.AddFinNewsDelivery();
        builder.Services.AddSingleton<FirstPassStatus>();
        builder.AddFinNewsJobs(paths, runPipelineAtStart: false);
        return builder.Build();
    }

    /// <summary>A host for one CLI command: services and validated options, nothing started. Console logs only warnings.</summary>
    public static IHost BuildTool(AppPaths paths, bool verbose, Action<IHostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = paths.Root, Args = [] });
        builder.AddFinNewsConfiguration(paths);
        if (!verbose)
        {
            // Progress and results go to stdout; keep the console log (stderr) to what needs attention.
            foreach (var sink in builder.Configuration.GetSection("Serilog:WriteTo").GetChildren())
            {
                if (string.Equals(sink["Name"], "Console", StringComparison.OrdinalIgnoreCase))
                {
                    builder.Configuration[$"{sink.Path}:Args:restrictedToMinimumLevel"] = "Warning";
                }
            }
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
