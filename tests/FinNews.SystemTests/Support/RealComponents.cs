using System.Diagnostics;

namespace FinNews.SystemTests.Support;

/// <summary>
/// Makes the real components these tests need present: Debian's python3-aiosmtpd and chromium. The README's test
/// command has to work on a fresh machine, so when one is missing and the tests run as root (as on the build machines
/// and in CI) they are installed once from Debian's registry; otherwise the caller's check fails with the command.
/// </summary>
internal static class RealComponents
{
    private static readonly Lazy<string?> Installed = new(Install, LazyThreadSafetyMode.ExecutionAndPublication);

    public const string Packages = "python3-aiosmtpd chromium fonts-dejavu-core";

    /// <summary>Installs the packages if something is missing and we are root; returns apt's error text on failure.</summary>
    public static string? EnsureInstalled() => Installed.Value;

    private static string? Install()
    {
        var missing = !File.Exists("/usr/bin/chromium") || !HasAiosmtpd();
        if (!missing)
        {
            return null;
        }

        if (Environment.UserName != "root")
        {
            return $"missing components and not root: run apt-get install -y {Packages}";
        }

        foreach (var args in new[] { "update -qq", $"install -y -qq --no-install-recommends {Packages}" })
        {
            var info = new ProcessStartInfo("apt-get", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
            using var apt = Process.Start(info)!;
            var error = apt.StandardError.ReadToEndAsync();
            apt.StandardOutput.ReadToEnd();
            apt.WaitForExit();
            if (apt.ExitCode != 0)
            {
                return $"apt-get {args} failed ({apt.ExitCode}): {error.Result}";
            }
        }

        return null;
    }

    private static bool HasAiosmtpd()
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            return false;
        }

        using var p = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", "import aiosmtpd"]) { RedirectStandardError = true, UseShellExecute = false })!;
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0;
    }
}
