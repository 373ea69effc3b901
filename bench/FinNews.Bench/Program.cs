using FinNews.Bench;

return await BenchProgram.RunAsync(args);
