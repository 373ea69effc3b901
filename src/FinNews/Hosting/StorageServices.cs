using FinNews.Core.Access;
using FinNews.Core.Briefing;
using FinNews.Core.Delivery;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using FinNews.Core.Storage.Postgres;
using FinNews.Core.Storage.Sqlite;
using FinNews.Core.Tuning;
using Microsoft.Extensions.Options;

namespace FinNews.Hosting;

/// <summary>The system of record (section "Storage").</summary>
public sealed class StorageOptions
{
    /// <summary>The environment variable holding the PostgreSQL connection string (never a config file: it holds a password).</summary>
    public const string PostgresConnectionVariable = "FINNEWS_POSTGRES_CONNECTION";

    /// <summary>"sqlite" (embedded, the default: data/finnews.db) or "postgres" (connection from <see cref="PostgresConnectionVariable"/>).</summary>
    public string Provider { get; set; } = "sqlite";
}

/// <summary>Where the system of record lives, for messages (never holds a password).</summary>
/// <param name="Provider">"sqlite" or "postgres".</param>
/// <param name="Display">The SQLite file, or the PostgreSQL host and database.</param>
/// <param name="DataDirectory">The data folder (checkpoints, briefings, the embedded search index).</param>
/// <param name="EmbeddedSearchConnectionString">
/// The SQLite file of the embedded search index: the store's own file with SQLite, data/search.db with PostgreSQL.
/// </param>
public sealed record StorageLocation(string Provider, string Display, string DataDirectory, string EmbeddedSearchConnectionString);

/// <summary>Registration of the storage interfaces by <see cref="StorageOptions.Provider"/>.</summary>
public static class StorageServices
{
    /// <summary>
    /// Registers <see cref="IFeedStore"/>, <see cref="IArticleStore"/>, <see cref="IMarketStore"/>, <see cref="IBriefingStore"/>,
    /// <see cref="IDeliveryStore"/>, <see cref="IApiKeyStore"/> and <see cref="ITuningJobStore"/> on SQLite (default; the
    /// concrete stores too, unchanged) or on PostgreSQL. Each store is created and its schema migrated on first use.
    /// </summary>
    public static void AddFinNewsStorage(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<StorageOptions>().BindConfiguration("Storage");
        services.AddSingleton(sp => Location(sp));
        var provider = builder.Configuration["Storage:Provider"] ?? "sqlite";
        if (provider == "postgres")
        {
            services.AddSingleton(sp =>
            {
                var store = new PostgresStore(PostgresConnection(), sp.GetRequiredService<TimeProvider>());
                store.Initialize();
                return store;
            });
            Forward<PostgresStore>(services);
            services.AddSingleton<IDeliveryStore>(sp => new PostgresDeliveryStore(sp.GetRequiredService<PostgresStore>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<FinNews.Core.Feeds.Watchlist>().Tickers.Select(t => t.Symbol)));
            services.AddSingleton<IApiKeyStore>(sp => new PostgresApiKeyStore(sp.GetRequiredService<PostgresStore>(), sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<ITuningJobStore>(sp => new PostgresTuningJobStore(sp.GetRequiredService<PostgresStore>()));
            return;
        }

        if (provider != "sqlite")
        {
            throw new InvalidDataException($"Storage:Provider = '{provider}': unknown storage provider (use 'sqlite' or 'postgres').");
        }

        services.AddSingleton(sp =>
        {
            var store = new SqliteStore(SqlitePath(sp));
            store.Initialize();
            return store;
        });
        Forward<SqliteStore>(services);
        services.AddSingleton(sp =>
        {
            var store = new SqliteDeliveryStore(sp.GetRequiredService<SqliteStore>().ConnectionString, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<FinNews.Core.Feeds.Watchlist>().Tickers.Select(t => t.Symbol));
            store.Initialize();
            return store;
        });
        services.AddSingleton<IDeliveryStore>(sp => sp.GetRequiredService<SqliteDeliveryStore>());
        services.AddSingleton(sp =>
        {
            var keys = new SqliteApiKeyStore(sp.GetRequiredService<SqliteStore>().ConnectionString, sp.GetRequiredService<TimeProvider>());
            keys.Initialize();
            return keys;
        });
        services.AddSingleton<IApiKeyStore>(sp => sp.GetRequiredService<SqliteApiKeyStore>());
        // Created (with its table) when a tune command first needs it.
        services.AddSingleton<ITuningJobStore>(sp => new SqliteTuningJobStore(sp.GetRequiredService<SqliteStore>().ConnectionString));
    }

    /// <summary>The PostgreSQL connection string from <see cref="StorageOptions.PostgresConnectionVariable"/>; a clear error when unset.</summary>
    public static string PostgresConnection() =>
        Environment.GetEnvironmentVariable(StorageOptions.PostgresConnectionVariable) is { Length: > 0 } connection
            ? connection
            : throw new InvalidDataException(
                $"Storage:Provider = 'postgres' needs the connection string in the environment variable {StorageOptions.PostgresConnectionVariable} " +
                "(e.g. 'Host=db;Database=finnews;Username=finnews;Password=...'); it is never read from config files.");

    /// <summary>The embedded SQLite file (data/finnews.db), whatever the provider (`migrate --to postgres` reads it).</summary>
    public static string SqlitePath(IServiceProvider sp) => Path.Combine(DataDirectory(sp), "finnews.db");

    /// <summary>The data folder (FinNews:DataDirectory resolved against the folder holding config/).</summary>
    public static string DataDirectory(IServiceProvider sp) =>
        sp.GetRequiredService<AppPaths>().FromRoot(sp.GetRequiredService<IOptions<FinNewsOptions>>().Value.DataDirectory);

    private static StorageLocation Location(IServiceProvider sp)
    {
        var data = DataDirectory(sp);
        if (sp.GetRequiredService<IOptions<StorageOptions>>().Value.Provider == "postgres")
        {
            var search = Path.Combine(data, "search.db");
            Directory.CreateDirectory(data);
            return new StorageLocation("postgres", PostgresStore.Describe(PostgresConnection()), data,
                new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = search, Pooling = true, DefaultTimeout = 30 }.ToString());
        }

        var store = sp.GetRequiredService<SqliteStore>();
        return new StorageLocation("sqlite", store.DatabasePath, data, store.ConnectionString);
    }

    private static void Forward<TStore>(IServiceCollection services)
        where TStore : class, IFeedStore, IArticleStore, IMarketStore, IBriefingStore
    {
        services.AddSingleton<IFeedStore>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IArticleStore>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IMarketStore>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IBriefingStore>(sp => sp.GetRequiredService<TStore>());
    }
}
