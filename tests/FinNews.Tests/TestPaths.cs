namespace FinNews.Tests;

/// <summary>Locations the tests read from. Corpora stay in ../shared and are never copied into the repository.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> Root = new(FindRepoRoot);

    /// <summary>The repository root: the nearest directory above the test binaries holding FinNews.sln.</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>The shared corpora folder next to the repository (…/shared/corpora).</summary>
    public static string SharedCorpora => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "corpora"));

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FinNews.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"FinNews.sln not found above {AppContext.BaseDirectory}.");
    }
}
