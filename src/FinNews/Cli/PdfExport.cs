using System.Diagnostics;

namespace FinNews.Cli;

/// <summary>Prints an HTML document to PDF with headless Chromium (the browser the system tests use).</summary>
internal static class PdfExport
{
    /// <summary>Chromium's path: $FINNEWS_CHROMIUM, else /usr/bin/chromium.</summary>
    public static string Browser => Environment.GetEnvironmentVariable("FINNEWS_CHROMIUM") ?? "/usr/bin/chromium";

    /// <summary>Writes the PDF; returns null on success or the reason it failed.</summary>
    public static async Task<string?> PrintAsync(string html, string pdfPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(Browser))
        {
            return $"{Browser} not found; install Debian's chromium (apt-get install chromium) or set FINNEWS_CHROMIUM.";
        }

        var work = Directory.CreateTempSubdirectory("finnews-pdf-");
        try
        {
            var input = Path.Combine(work.FullName, "briefing.html");
            await File.WriteAllTextAsync(input, html, cancellationToken);
            var info = new ProcessStartInfo(Browser) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            // The document is a local file with a CSP that blocks every fetch; the flags keep Chromium off the network.
            foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--no-first-run", "--no-pdf-header-footer", $"--user-data-dir={Path.Combine(work.FullName, "profile")}",
                         $"--print-to-pdf={pdfPath}", new Uri(input).AbsoluteUri })
            {
                info.ArgumentList.Add(arg);
            }

            using var process = Process.Start(info)!;
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            _ = process.StandardOutput.ReadToEndAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            return process.ExitCode == 0 && File.Exists(pdfPath) && new FileInfo(pdfPath).Length > 0
                ? null
                : $"chromium exited with {process.ExitCode}: {(await stderr).Trim()}";
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
