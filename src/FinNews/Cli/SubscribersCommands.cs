using System.CommandLine;
using System.Globalization;
using FinNews.Hosting;
using Spectre.Console;

namespace FinNews.Cli;

// `finnews subscribers add|list`.
public static partial class FinNewsCli
{
    private static Command SubscribersCommand()
    {
        var email = new Argument<string>("email") { Description = "Subscriber address" };
        var tz = new Option<string>("--timezone") { Description = "IANA time zone (e.g. America/New_York)", DefaultValueFactory = _ => "UTC" };
        var schedule = new Option<string>("--schedule") { Description = "'daily HH:mm', 'weekdays HH:mm' or a Quartz cron", DefaultValueFactory = _ => "daily 07:00" };
        var sections = new Option<string[]>("--section") { Description = "Only these sections (top, watchlist, markets); repeatable", AllowMultipleArgumentsPerToken = true };
        var tickers = new Option<string[]>("--ticker") { Description = "Only statements about these tickers; repeatable", AllowMultipleArgumentsPerToken = true };
        var add = new Command("add", "Subscribe an address to the scheduled digest") { email, tz, schedule, sections, tickers };
        add.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            try
            {
                var s = host.Services.GetRequiredService<FinNews.Core.Delivery.IDeliveryStore>().AddSubscriber(new FinNews.Core.Delivery.NewSubscriber(
                    parse.GetValue(email)!, parse.GetValue(tz)!, parse.GetValue(schedule)!, parse.GetValue(sections), parse.GetValue(tickers)));
                Console.WriteLine($"Subscribed {s.Email} (id {s.Id}): {s.Schedule} {s.TimeZone}");
                return Task.FromResult(0);
            }
            catch (FinNews.Core.Delivery.SubscriberValidationException ex)
            {
                // A field of the command line was wrong: a bad argument (exit 2), not a failed run.
                Console.Error.WriteLine(ex.Message);
                return Task.FromResult(2);
            }
        }));
        var list = new Command("list", "Subscribers and their schedules");
        list.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var table = new Table().AddColumns("Id", "Email", "Schedule", "Time zone", "Sections", "Tickers");
            foreach (var s in host.Services.GetRequiredService<FinNews.Core.Delivery.IDeliveryStore>().ListSubscribers())
            {
                table.AddRow(s.Id.ToString(CultureInfo.InvariantCulture), Markup.Escape(s.Email), Markup.Escape(s.Schedule), Markup.Escape(s.TimeZone),
                    Markup.Escape(string.Join(',', s.Sections)), Markup.Escape(string.Join(',', s.Tickers)));
            }

            AnsiConsole.Write(table);
            return Task.FromResult(0);
        }));
        var command = new Command("subscribers", "Email digest subscribers");
        command.Subcommands.Add(add);
        command.Subcommands.Add(list);
        return command;
    }
}
