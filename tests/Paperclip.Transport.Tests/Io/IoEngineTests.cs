using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Tests.Io;

/// <summary>How the process-wide engine is chosen and sized: options, the environment, the kernel.</summary>
public sealed class IoEngineTests
{
    [Fact]
    public void Automatic_is_io_uring_where_the_kernel_allows_it_then_epoll_then_portable()
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable(IoEngine.EnvironmentVariable) is { Length: > 0 }, "the environment chooses the engine of this run");
        var expected = !OperatingSystem.IsLinux() ? SocketEngine.Portable
            : IoUringRing.UnavailableReason is null ? SocketEngine.IoUring
            : SocketEngine.Epoll;
        Assert.Equal(expected, IoEngine.For(SocketEngine.Automatic).Kind);
    }

    [Theory]
    [InlineData(null, SocketEngine.Automatic)]
    [InlineData(" ", SocketEngine.Automatic)]
    [InlineData("automatic", SocketEngine.Automatic)]
    [InlineData("EPOLL", SocketEngine.Epoll)]
    [InlineData("io_uring", SocketEngine.IoUring)]
    [InlineData("iouring", SocketEngine.IoUring)]
    [InlineData(" portable ", SocketEngine.Portable)]
    public void The_environment_names_an_engine(string? configured, SocketEngine engine) =>
        Assert.Equal(engine, IoEngine.FromEnvironment(configured));

    [Fact]
    public void An_unknown_engine_in_the_environment_names_the_variable()
    {
        var error = Assert.Throws<InvalidOperationException>(() => IoEngine.FromEnvironment("epol"));
        Assert.Contains(IoEngine.EnvironmentVariable, error.Message);
        Assert.Contains("epol", error.Message);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("1", true)]
    [InlineData(" 8 ", true)]
    public void The_number_of_loops_comes_from_the_environment_or_the_processors(string? configured, bool fromConfiguration)
    {
        var count = IoEngine.LoopCount(configured);
        Assert.Equal(fromConfiguration ? int.Parse(configured!.Trim(), System.Globalization.CultureInfo.InvariantCulture) : Math.Clamp(Environment.ProcessorCount, 1, 16), count);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("-2")]
    [InlineData("four")]
    public void A_bad_number_of_loops_names_the_variable(string configured)
    {
        var error = Assert.Throws<InvalidOperationException>(() => IoEngine.LoopCount(configured));
        Assert.Contains(IoEngine.ThreadsVariable, error.Message);
        Assert.Contains(configured, error.Message);
    }

}
