using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Paperclip.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
