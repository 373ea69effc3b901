using FinNews.Cli;

// The table of contents: every role and tool is a verb (see Cli/FinNewsCli.cs); hosts are built in Hosting/AppHost.cs.
// The composition root, and the one place the real clock enters: everything else takes an injected TimeProvider.
#pragma warning disable RS0030 // TimeProvider.System is banned everywhere else (BannedSymbols.txt).
return await FinNewsCli.RunAsync(args, TimeProvider.System);
