using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FinNews.SystemTests.Support;

/// <summary>
/// A real SMTP server for the test: aiosmtpd (Debian python3-aiosmtpd) run by /usr/bin/python3 as a child process on a
/// free loopback port, storing every message it accepts as a file in a Maildir (<see cref="Messages"/>).
/// </summary>
/// <remarks>Missing aiosmtpd is a failure with the install command, never a skip: CI installs it.</remarks>
public sealed class SmtpServer : IAsyncDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly Process _process;
    private readonly Task<string> _stderr;

    private SmtpServer(Process process, int port, string maildir)
    {
        _process = process;
        Port = port;
        Maildir = maildir;
        _stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
    }

    public int Port { get; }

    /// <summary>The Maildir; accepted messages land in its <c>new</c> folder.</summary>
    public string Maildir { get; }

    /// <summary>Accepted messages (raw RFC 5322 text), oldest first.</summary>
    public IReadOnlyList<string> Messages =>
        Directory.Exists(Path.Combine(Maildir, "new"))
            ? Directory.GetFiles(Path.Combine(Maildir, "new")).Select(f => new FileInfo(f)).OrderBy(f => f.CreationTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => File.ReadAllText(f.FullName)).ToList()
            : [];

    /// <summary>Starts the server in a folder under <paramref name="workDirectory"/> and waits until it accepts connections.</summary>
    public static async Task<SmtpServer> StartAsync(string workDirectory)
    {
        await RequireAiosmtpdAsync();
        var port = FreePort();
        var maildir = Path.Combine(workDirectory, "maildir-" + port); // must not exist: aiosmtpd's Mailbox creates it
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Mailbox", maildir })
        {
            info.ArgumentList.Add(arg);
        }

        var server = new SmtpServer(Process.Start(info)!, port, maildir);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (server._process.HasExited)
            {
                throw new InvalidOperationException($"aiosmtpd exited with code {server._process.ExitCode}: {await server._stderr}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                using var reader = new StreamReader(probe.GetStream());
                var greeting = await reader.ReadLineAsync();
                if (greeting?.StartsWith("220", StringComparison.Ordinal) == true)
                {
                    return server;
                }
            }
            catch (SocketException)
            {
                // not listening yet
            }

            await Task.Delay(50);
        }

        await server.DisposeAsync();
        throw new TimeoutException($"aiosmtpd did not accept connections on 127.0.0.1:{port} within 15 s.");
    }

    /// <summary>Waits until at least <paramref name="count"/> messages are stored (the file appears just after 250 OK).</summary>
    public async Task<IReadOnlyList<string>> WaitForMessagesAsync(int count, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (Messages.Count < count && watch.Elapsed < timeout)
        {
            await Task.Delay(25);
        }

        return Messages;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static async Task RequireAiosmtpdAsync()
    {
        const string Install = "install it with: apt-get install -y python3-aiosmtpd (CI does this in .ci/run)";
        var installError = RealComponents.EnsureInstalled();
        if (!File.Exists(Python))
        {
            throw new InvalidOperationException($"{Python} not found: the SMTP system tests need Debian's python3 with aiosmtpd; {Install}.");
        }

        var info = new ProcessStartInfo(Python, ["-c", "import aiosmtpd"]) { RedirectStandardError = true, UseShellExecute = false };
        using var check = Process.Start(info)!;
        var error = await check.StandardError.ReadToEndAsync();
        await check.WaitForExitAsync();
        if (check.ExitCode != 0)
        {
            throw new InvalidOperationException($"aiosmtpd is not installed for {Python}; {Install}. ({error.Trim()}) {installError}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
