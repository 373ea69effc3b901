using System.Diagnostics;

namespace FinNews.Tests.Support;

/// <summary>Runs the real `finnews` executable (built beside the tests) as a child process.</summary>
public static class FinNewsProcess
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "finnews.dll");

    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        return info;
    }

    /// <summary>Runs to completion; returns exit code, stdout and stderr.</summary>
    public static Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => RunWithAsync(null, args);

    /// <summary>Runs to completion with extra environment variables (e.g. an API key the profile names).</summary>
    public static async Task<(int Code, string Out, string Err)> RunWithAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = StartInfo(args);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // A guard against a hung child, not a speed check: generous, because CI machines are shared and busy.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
