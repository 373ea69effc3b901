using System.Net;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FinNews.Core;
using FinNews.Hosting;
using FinNews.Jobs;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using YamlDotNet.RepresentationModel;

namespace FinNews.Tests.Hosting;

/// <summary>
/// The Dockerfile, deploy/docker-compose.yml and deploy/k8s/ cannot be run here (no Docker engine, no cluster), so they
/// are checked by reading: every variable they set is a configuration key the app binds or a variable it reads, each is
/// documented in the README, and every probe path answers on the real web host.
/// </summary>
public partial class DeploymentFilesTests
{
    /// <summary>Sections bound to options classes: FINNEWS_Section__Key must name a property of the class.</summary>
    private static readonly Dictionary<string, Type> Sections = new(StringComparer.OrdinalIgnoreCase)
    {
        ["FinNews"] = typeof(FinNewsOptions),
        ["Web"] = typeof(WebOptions),
        ["Scheduler"] = typeof(SchedulerOptions),
        ["Storage"] = typeof(StorageOptions),
        ["Search"] = typeof(SearchOptions),
        ["Telemetry"] = typeof(TelemetryOptions),
        ["Briefing"] = typeof(FinNews.Core.Briefing.BriefingOptions),
        ["Ingest"] = typeof(FinNews.Core.Feeds.FetchOptions),
        ["Polling"] = typeof(FinNews.Core.Feeds.PollOptions),
        ["Market"] = typeof(FinNews.Core.Market.MarketOptions),
        ["Auth"] = typeof(FinNews.Core.Access.AuthOptions),
        ["Smtp"] = typeof(FinNews.Core.Delivery.SmtpOptions),
        ["Digest"] = typeof(FinNews.Core.Delivery.DigestOptions),
        ["Elasticsearch"] = typeof(FinNews.Core.Search.Elasticsearch.ElasticsearchOptions),
    };

    private static string Repo => TestEnvironment.RepoRoot;

    [Fact]
    public void Every_variable_the_deployment_files_set_is_bound_or_read_by_the_app_and_documented_once_in_the_README()
    {
        var variables = DeploymentVariables();
        variables.Should().Contain(["FINNEWS_Storage__Provider", "FINNEWS_Scheduler__Store", "FINNEWS_POSTGRES_CONNECTION", "FINNEWS_Scheduler__InstanceId", "FINNEWS_Search__Backend"]);
        var source = string.Join('\n', Directory.GetFiles(Path.Combine(Repo, "src"), "*.cs", SearchOption.AllDirectories).Select(File.ReadAllText));
        var models = File.ReadAllText(Path.Combine(Repo, "config", "models.json"));
        var appsettings = JsonNode.Parse(File.ReadAllText(Path.Combine(Repo, "config", "appsettings.json")))!;
        var readme = File.ReadAllText(Path.Combine(Repo, "README.md"));
        var envSection = readme[readme.IndexOf("### Environment variables", StringComparison.Ordinal)..];
        // The table only: up to the next heading (later sections may mention a variable in prose).
        var next = envSection.IndexOf("\n#", 10, StringComparison.Ordinal);
        envSection = next < 0 ? envSection : envSection[..next];

        var problems = new List<string>();
        foreach (var variable in variables)
        {
            if (Problem(variable, source, models, appsettings) is { } problem)
            {
                problems.Add(problem);
            }

            var mentions = Regex.Count(envSection, $"`{Regex.Escape(variable)}`");
            if (mentions != 1)
            {
                problems.Add($"{variable}: documented {mentions} times in the README's environment variables table (want once)");
            }
        }

        problems.Should().BeEmpty();
    }

    [Fact]
    public async Task Every_probe_path_of_the_deployment_files_answers_on_the_web_host()
    {
        var paths = ProbePaths();
        paths.Should().Contain(["/health", "/ready"]);
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        await app.Services.GetRequiredService<FinNewsPipeline>().IngestAsync(null, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
        foreach (var path in paths)
        {
            (await http.GetAsync(path)).StatusCode.Should().Be(HttpStatusCode.OK, $"{path} is a probe of the deployment files");
        }
    }

    private static string? Problem(string variable, string source, string models, JsonNode appsettings)
    {
        if (!variable.StartsWith("FINNEWS_", StringComparison.Ordinal) || !variable.Contains("__", StringComparison.Ordinal))
        {
            // Read directly (secrets, standard OpenTelemetry variables) or named by a model profile's apiKeyEnv.
            return source.Contains($"\"{variable}\"", StringComparison.Ordinal)
                || (variable.StartsWith("OTEL_", StringComparison.Ordinal) && source.Contains($"\"{variable}\"", StringComparison.Ordinal))
                || models.Contains($"\"apiKeyEnv\": \"{variable}\"", StringComparison.Ordinal)
                ? null
                : $"{variable}: the app never reads this variable";
        }

        var path = variable["FINNEWS_".Length..].Split("__");
        if (path is ["ConnectionStrings", var name])
        {
            return source.Contains($"GetConnectionString(\"{name}\")", StringComparison.Ordinal) ? null : $"{variable}: no connection string '{name}' is read";
        }

        if (path.Length == 2 && Sections.TryGetValue(path[0], out var type))
        {
            return type.GetProperty(path[1], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) is { CanWrite: true }
                ? null
                : $"{variable}: {type.Name} (section {path[0]}) has no settable property {path[1]}";
        }

        // Deeper keys (a Serilog sink's argument) must exist in appsettings.json, so they override something real.
        JsonNode? node = appsettings;
        foreach (var part in path)
        {
            node = node switch
            {
                JsonObject o => o.FirstOrDefault(p => string.Equals(p.Key, part, StringComparison.OrdinalIgnoreCase)).Value,
                JsonArray a when int.TryParse(part, out var i) && i < a.Count => a[i],
                _ => null,
            };
        }

        return node is null ? $"{variable}: no such key in config/appsettings.json and no options section binds it" : null;
    }

    private static SortedSet<string> DeploymentVariables()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match m in DockerEnv().Matches(File.ReadAllText(Path.Combine(Repo, "Dockerfile"))))
        {
            names.Add(m.Groups[1].Value);
        }

        // Compose: the shared FinNews environment and the services built from our Dockerfile (es-setup, for one,
        // takes variables of its own).
        var compose = YamlDocuments().Last();
        var finnews = ((YamlMappingNode)compose).Children
            .Where(kv => ((YamlScalarNode)kv.Key).Value == "x-finnews-env").Select(kv => kv.Value)
            .Concat(((YamlMappingNode)((YamlMappingNode)compose)["services"]).Children.Values.Cast<YamlMappingNode>()
                .Where(service => service.Children.ContainsKey(new YamlScalarNode("build"))));
        foreach (var root in YamlDocuments().SkipLast(1).Concat(finnews))
        {
            Walk(root, null, (key, parent) =>
            {
                if (AppVariable().IsMatch(key))
                {
                    names.Add(key);
                }
            }, (name, _) =>
            {
                if (AppVariable().IsMatch(name))
                {
                    names.Add(name);
                }
            });
        }

        return names;
    }

    private static SortedSet<string> ProbePaths()
    {
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match m in HttpGetLine().Matches(File.ReadAllText(Path.Combine(Repo, "Dockerfile")) + File.ReadAllText(Path.Combine(Repo, "deploy", "docker-compose.yml"))))
        {
            paths.Add(m.Groups[1].Value);
        }

        foreach (var root in YamlDocuments())
        {
            Walk(root, null, (_, _) => { }, (_, _) => { }, probe: path => paths.Add(path));
        }

        return paths;
    }

    private static IEnumerable<YamlNode> YamlDocuments()
    {
        var files = Directory.GetFiles(Path.Combine(Repo, "deploy", "k8s"), "*.yaml").Append(Path.Combine(Repo, "deploy", "docker-compose.yml"));
        foreach (var file in files)
        {
            var stream = new YamlStream();
            using var reader = new StringReader(File.ReadAllText(file));
            stream.Load(reader);
            foreach (var doc in stream.Documents)
            {
                yield return doc.RootNode;
            }
        }
    }

    /// <summary>Visits mapping keys (compose environment maps, ConfigMap/Secret data), k8s env entries (name), and httpGet probe paths.</summary>
    private static void Walk(YamlNode node, string? key, Action<string, string?> mappingKey, Action<string, YamlNode> envEntry, Action<string>? probe = null)
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (k, v) in map.Children)
                {
                    var name = ((YamlScalarNode)k).Value!;
                    mappingKey(name, key);
                    if (name == "httpGet" && v is YamlMappingNode get && get.Children.TryGetValue(new YamlScalarNode("path"), out var p))
                    {
                        probe?.Invoke(((YamlScalarNode)p).Value!);
                    }

                    Walk(v, name, mappingKey, envEntry, probe);
                }

                break;
            case YamlSequenceNode seq:
                foreach (var item in seq.Children)
                {
                    if (key == "env" && item is YamlMappingNode entry && entry.Children.TryGetValue(new YamlScalarNode("name"), out var n))
                    {
                        envEntry(((YamlScalarNode)n).Value!, entry);
                    }

                    Walk(item, key, mappingKey, envEntry, probe);
                }

                break;
        }
    }

    [GeneratedRegex(@"^(FINNEWS_\w+|OTEL_\w+|OPENAI_API_KEY)$")]
    private static partial Regex AppVariable();

    [GeneratedRegex(@"\b(FINNEWS_\w+)=")]
    private static partial Regex DockerEnv();

    [GeneratedRegex(@"GET (/[a-z]+) HTTP")]
    private static partial Regex HttpGetLine();
}
