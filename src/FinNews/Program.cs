using FinNews.Cli;

// The table of contents: every role and tool is a verb (see Cli/FinNewsCli.cs); hosts are built in Hosting/AppHost.cs.
return await FinNewsCli.Build().Parse(args).InvokeAsync();
