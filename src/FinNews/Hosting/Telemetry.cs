using FinNews.Core.Telemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Serilog;
using Serilog.Context;

namespace FinNews.Hosting;

/// <summary>OpenTelemetry export (section "Telemetry"); off unless an OTLP endpoint is configured.</summary>
public sealed class TelemetryOptions
{
    /// <summary>
    /// OTLP collector URL (e.g. <c>http://otel-collector:4317</c> for gRPC, <c>http://otel-collector:4318</c> for
    /// http/protobuf). Empty (the default): the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable decides; neither
    /// set: no telemetry is exported.
    /// </summary>
    public string OtlpEndpoint { get; set; } = "";

    /// <summary>"grpc" or "http/protobuf"; empty: <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, else grpc.</summary>
    public string OtlpProtocol { get; set; } = "";

    /// <summary>The service.name resource attribute; the role (web, worker, run) goes in the finnews.role attribute.</summary>
    public string ServiceName { get; set; } = "finnews";
}

/// <summary>Traces and metrics over OTLP, request logging with request ids, and the API latency metric.</summary>
public static class Telemetry
{
    /// <summary>
    /// When an OTLP endpoint is configured: traces (ASP.NET Core, HttpClient, Quartz) and metrics (the FinNews meter,
    /// ASP.NET Core, HttpClient, runtime, Quartz) exported to it. Nothing is registered otherwise.
    /// </summary>
    public static void AddFinNewsTelemetry(this IHostApplicationBuilder builder, string role)
    {
        var options = builder.Configuration.GetSection("Telemetry").Get<TelemetryOptions>() ?? new TelemetryOptions();
        var fromConfig = !string.IsNullOrWhiteSpace(options.OtlpEndpoint);
        var endpoint = fromConfig ? options.OtlpEndpoint : Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT");
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return;
        }

        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            var key = fromConfig ? "Telemetry:OtlpEndpoint" : "OTEL_EXPORTER_OTLP_ENDPOINT";
            throw new InvalidDataException($"{key} = '{endpoint}': not an absolute http(s) URL (e.g. 'http://otel-collector:4317').");
        }

        var protocolName = !string.IsNullOrWhiteSpace(options.OtlpProtocol) ? options.OtlpProtocol
            : Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_PROTOCOL") is { Length: > 0 } p ? p : "grpc";
        var protocol = protocolName switch
        {
            "grpc" => OtlpExportProtocol.Grpc,
            "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            _ => throw new InvalidDataException($"Telemetry:OtlpProtocol = '{protocolName}': use 'grpc' or 'http/protobuf'."),
        };

        // An endpoint from the standard variable is left to the exporter, which adds /v1/traces and /v1/metrics for
        // http/protobuf itself; one from configuration is the collector's base URL, and the signal path is added here.
        void Exporter(OtlpExporterOptions o, string signal)
        {
            o.Protocol = protocol;
            if (fromConfig)
            {
                o.Endpoint = protocol == OtlpExportProtocol.HttpProtobuf ? new Uri(uri, $"v1/{signal}") : uri;
            }
        }

        var instance = builder.Configuration["Scheduler:InstanceId"] is { Length: > 0 } id ? id : Environment.MachineName;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(options.ServiceName, serviceInstanceId: instance)
                .AddAttributes([new("finnews.role", role)]))
            .WithTracing(t => t
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !IsProbe(http.Request.Path))
                .AddHttpClientInstrumentation()
                .AddSource("Quartz")
                .AddOtlpExporter(o => Exporter(o, "traces")))
            .WithMetrics(m => m
                .AddMeter(FinNewsMetrics.MeterName, "Quartz")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddOtlpExporter(o => Exporter(o, "metrics")));
    }

    /// <summary>
    /// First in the pipeline: every request gets an id (the <c>X-Request-Id</c> response header and <c>RequestId</c> on
    /// every log line written while it runs), one Serilog summary line when it ends (probes at Verbose), and API
    /// requests are timed into <c>finnews.api.duration</c> by route template.
    /// </summary>
    public static void UseFinNewsRequestLogging(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var time = app.Services.GetRequiredService<TimeProvider>();
        app.Use(async (http, next) =>
        {
            var requestId = http.TraceIdentifier;
            http.Response.Headers["X-Request-Id"] = requestId;
            using var _ = LogContext.PushProperty("RequestId", requestId);
            var started = time.GetTimestamp();
            try
            {
                await next(http);
            }
            finally
            {
                if (http.Request.Path.StartsWithSegments("/api"))
                {
                    var route = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(unmatched)";
                    FinNewsMetrics.ApiRequest(route, http.Request.Method, http.Response.StatusCode, time.GetElapsedTime(started));
                }
            }
        });
        app.UseSerilogRequestLogging(o =>
        {
            o.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            o.GetLevel = (http, _, ex) => ex is not null || http.Response.StatusCode >= 500 ? Serilog.Events.LogEventLevel.Error
                : IsProbe(http.Request.Path) ? Serilog.Events.LogEventLevel.Verbose
                : Serilog.Events.LogEventLevel.Information;
            o.EnrichDiagnosticContext = (diagnostics, http) => diagnostics.Set("RequestId", http.TraceIdentifier);
        });
    }

    private static bool IsProbe(PathString path) => path.StartsWithSegments(Readiness.LivePath) || path.StartsWithSegments(Readiness.ReadyPath);
}
