using ArchUnitNET.Domain;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnit;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace FinNews.Tests.Architecture;

/// <summary>
/// Dependencies point one way (README, "Layout"): the hosts (src/FinNews: Cli → Hosting → Api | Web | Jobs) use Core;
/// Core's domain folders own their records and the interfaces of the stores that keep them, and never reference
/// FinNews.Core.Storage, whose SQLite and PostgreSQL implementations depend on the domain and are chosen by Hosting.
/// </summary>
/// <remarks>
/// Read from the compiled assemblies (and the two database drivers'), so a fully qualified name breaks a rule as surely
/// as a using directive. A constant is inlined by the compiler and leaves no trace: these rules see types, methods,
/// fields and generic arguments, not <c>const</c> values.
/// </remarks>
public sealed class DependencyRulesTests
{
    private const string Core = "FinNews.Core";
    private const string Storage = "FinNews.Core.Storage";

    private static readonly ArchUnitNET.Domain.Architecture Architecture = new ArchLoader().LoadAssemblies(
        typeof(FinNews.Core.RelativeInstant).Assembly,
        typeof(FinNews.Cli.FinNewsCli).Assembly,
        typeof(Microsoft.Data.Sqlite.SqliteConnection).Assembly,
        typeof(Npgsql.NpgsqlConnection).Assembly).Build();

    private static IObjectProvider<IType> StorageImplementations =>
        Types().That().ResideInNamespaceOrBelow(Storage).As("the storage implementations (FinNews.Core.Storage and below)");

    [Fact]
    public void Core_domain_folders_never_depend_on_a_storage_implementation()
    {
        Types().That().ResideInNamespaceOrBelow(Core).And().DoNotResideInNamespaceOrBelow(Storage)
            .Should().NotDependOnAny(StorageImplementations)
            .Because("the domain talks to the store interfaces it owns (IFeedStore, IArticleStore, IMarketStore, IBriefingStore, "
                + "IDeliveryStore, IApiKeyStore, ITuningJobStore), so every capability runs on SQLite and on PostgreSQL alike")
            .Check(Architecture);
    }

    [Fact]
    public void Every_store_implementation_lives_under_Storage_Sqlite_or_Storage_Postgres()
    {
        Classes().That().ResideInNamespaceOrBelow(Core).And().HaveNameEndingWith("Store")
            .Should().ResideInNamespace(Storage + ".Sqlite").OrShould().ResideInNamespace(Storage + ".Postgres")
            .Because("an implementation in a domain folder is one a domain type can reach for, which is how TuningDataset came to take SqliteStore")
            .Check(Architecture);
    }

    [Fact]
    public void Only_the_storage_implementations_and_the_embedded_search_index_use_the_SQLite_driver()
    {
        // The embedded search index is itself an implementation of ISearchIndex on a SQLite file (FTS/Lucene and vectors),
        // and RetrievalEvaluator builds a throwaway one for BEIR evaluations; both stay in Search/ beside the index.
        Types().That().ResideInNamespaceOrBelow(Core).And().DoNotResideInNamespaceOrBelow(Storage)
            .And().DoNotHaveFullName("FinNews.Core.Search.SqliteSearchIndex")
            .And().DoNotHaveFullName("FinNews.Core.Search.Evaluation.RetrievalEvaluator")
            .Should().NotDependOnAny(Types().That().ResideInNamespaceOrBelow("Microsoft.Data.Sqlite").As("Microsoft.Data.Sqlite"))
            .Check(Architecture);
    }

    [Fact]
    public void Only_the_storage_implementations_use_the_PostgreSQL_driver_in_Core()
    {
        Types().That().ResideInNamespaceOrBelow(Core).And().DoNotResideInNamespaceOrBelow(Storage)
            .Should().NotDependOnAny(Types().That().ResideInNamespaceOrBelow("Npgsql").As("Npgsql"))
            .Check(Architecture);
    }

    [Theory]
    [InlineData("FinNews.Api")]
    [InlineData("FinNews.Web")]
    [InlineData("FinNews.Jobs")]
    public void Api_Web_and_Jobs_use_Core_and_never_each_other_Hosting_or_the_CLI(string host)
    {
        string[] others = ["FinNews.Api", "FinNews.Web", "FinNews.Jobs", "FinNews.Hosting", "FinNews.Cli"];
        var forbidden = others.Where(n => n != host).ToArray();
        var provider = Types().That().ResideInNamespaceOrBelow(forbidden[0]);
        foreach (var name in forbidden.Skip(1))
        {
            provider = provider.Or().ResideInNamespaceOrBelow(name);
        }

        Types().That().ResideInNamespaceOrBelow(host)
            .Should().NotDependOnAny(provider.As(string.Join(", ", forbidden)))
            .Because("Hosting composes them; what two of them share is a capability and belongs in Core")
            .Check(Architecture);
    }
}
