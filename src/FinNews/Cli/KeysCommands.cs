using System.CommandLine;
using System.Globalization;
using FinNews.Hosting;
using Spectre.Console;

namespace FinNews.Cli;

// `finnews keys create|list|revoke`.
public static partial class FinNewsCli
{
    private static Command KeysCommand()
    {
        var scope = new Option<string>("--scope") { Description = "reader (reads and ask), editor (also edits and approves briefings in the pages) or admin (also feed and subscriber changes)", Required = true };
        var name = new Option<string>("--name") { Description = "Who or what the key is for", Required = true };
        var rpm = new Option<int>("--rpm") { Description = "Requests per minute allowed", DefaultValueFactory = _ => 120 };
        var create = new Command("create", "Create an API key (shown once; only its hash is stored)") { scope, name, rpm };
        create.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            try
            {
                var created = host.Services.GetRequiredService<FinNews.Core.Access.IApiKeyStore>().Create(parse.GetValue(name)!, parse.GetValue(scope)!, parse.GetValue(rpm));
                Console.WriteLine(created.Key);
                Console.Error.WriteLine($"Key {created.Record.Id} ({created.Record.Prefix}…, {created.Record.Scope}, {created.Record.RequestsPerMinute}/min). Store it now: it cannot be shown again.");
                return Task.FromResult(0);
            }
            catch (FinNews.Core.Access.ApiKeyValidationException ex)
            {
                Console.Error.WriteLine(ex.Message);
                return Task.FromResult(2);
            }
        }));
        var list = new Command("list", "API keys (prefixes only; keys are never stored)");
        list.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var table = new Table().AddColumns("Id", "Name", "Prefix", "Scope", "Per min", "Created", "Last used", "Revoked");
            foreach (var k in host.Services.GetRequiredService<FinNews.Core.Access.IApiKeyStore>().List())
            {
                string T(DateTimeOffset? t) => t?.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "-";
                table.AddRow(k.Id.ToString(CultureInfo.InvariantCulture), Markup.Escape(k.Name), Markup.Escape(k.Prefix), k.Scope,
                    k.RequestsPerMinute.ToString(CultureInfo.InvariantCulture), T(k.CreatedAt), T(k.LastUsedAt), T(k.RevokedAt));
            }

            AnsiConsole.Write(table);
            return Task.FromResult(0);
        }));
        var which = new Argument<string>("id-or-prefix") { Description = "Key id or its prefix" };
        var revoke = new Command("revoke", "Revoke an API key") { which };
        revoke.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var key = parse.GetValue(which)!;
            try
            {
                var done = host.Services.GetRequiredService<FinNews.Core.Access.IApiKeyStore>().Revoke(key);
                if (!done)
                {
                    Console.Error.WriteLine($"No key '{key}' (see finnews keys list).");
                    return Task.FromResult(2);
                }

                Console.WriteLine($"Key {key} revoked.");
                return Task.FromResult(0);
            }
            catch (FinNews.Core.Access.ApiKeyValidationException ex)
            {
                Console.Error.WriteLine(ex.Message);
                return Task.FromResult(2);
            }
        }));
        var command = new Command("keys", "API keys for the HTTP API and the pages (effective when Auth:Enabled is true)");
        command.Subcommands.Add(create);
        command.Subcommands.Add(list);
        command.Subcommands.Add(revoke);
        return command;
    }
}
