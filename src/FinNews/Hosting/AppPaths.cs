namespace FinNews.Hosting;

/// <summary>Where configuration and data live. Relative paths in configuration resolve against <see cref="Root"/>.</summary>
/// <param name="ConfigDirectory">Folder holding appsettings.json, feeds.json, watchlist.json and samples/.</param>
/// <param name="Root">The folder that contains the config folder (the repository or the container's /app).</param>
public sealed record AppPaths(string ConfigDirectory, string Root)
{
    /// <summary>Environment variable that names the config folder.</summary>
    public const string ConfigVariable = "FINNEWS_CONFIG_DIR";

    /// <summary>
    /// Finds the config folder: an explicit path, else $FINNEWS_CONFIG_DIR, else ./config or the nearest parent's
    /// config/ holding appsettings.json, else config/ beside the executable.
    /// </summary>
    public static AppPaths Resolve(string? explicitDirectory)
    {
        var chosen = explicitDirectory ?? Environment.GetEnvironmentVariable(ConfigVariable);
        if (!string.IsNullOrWhiteSpace(chosen))
        {
            var full = Path.GetFullPath(chosen);
            if (!File.Exists(Path.Combine(full, "appsettings.json")))
            {
                throw new DirectoryNotFoundException($"Config folder '{full}' has no appsettings.json (set by --config or {ConfigVariable}).");
            }

            return new AppPaths(full, Path.GetDirectoryName(full.TrimEnd(Path.DirectorySeparatorChar)) ?? full);
        }

        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "config");
            if (File.Exists(Path.Combine(candidate, "appsettings.json")))
            {
                return new AppPaths(candidate, dir.FullName);
            }
        }

        var beside = Path.Combine(AppContext.BaseDirectory, "config");
        if (File.Exists(Path.Combine(beside, "appsettings.json")))
        {
            return new AppPaths(beside, AppContext.BaseDirectory);
        }

        throw new DirectoryNotFoundException(
            $"No config folder found: pass --config DIR, set {ConfigVariable}, or run from a folder with config/appsettings.json.");
    }

    /// <summary>Resolves a configured path against <see cref="Root"/> unless it is absolute.</summary>
    public string FromRoot(string path) => Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(Root, path));

    /// <summary>Resolves a configured path against the config folder unless it is absolute.</summary>
    public string FromConfig(string path) => Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(ConfigDirectory, path));
}
