namespace Paperclip.Protocol.Tests.Packets;

public sealed class ErrorCodeTests
{
    public static TheoryData<byte, byte, Type> KnownCodes => new()
    {
        { 1, 0, typeof(ConnectionException) },
        { 1, 1, typeof(NoSpaceException) },
        { 1, 2, typeof(CertificateInvalidException) },
        { 1, 3, typeof(FinishInvalidException) },
        { 1, 4, typeof(VersionUnsupportedException) },
        { 1, 5, typeof(RetryException) },
        { 2, 0, typeof(DisconnectException) },
        { 2, 1, typeof(ServerDisconnectException) },
        { 2, 2, typeof(ClientDisconnectException) },
        { 2, 3, typeof(TimeoutDisconnectException) },
        { 3, 0, typeof(PacketException) },
        { 3, 1, typeof(PacketTypeException) },
        { 3, 2, typeof(PacketFlagsException) },
        { 3, 3, typeof(SequenceIdException) },
        { 3, 4, typeof(FragmentException) },
        { 3, 5, typeof(InitVectorException) },
        { 3, 6, typeof(ChecksumException) },
        { 3, 7, typeof(AckException) },
        { 3, 8, typeof(AuthException) },
        { 3, 9, typeof(HeartbeatException) },
        { 3, 10, typeof(PacketErrorException) },
        { 3, 11, typeof(DataException) },
        { 3, 12, typeof(SizeException) },
        { 3, 13, typeof(BatchException) },
        { 3, 14, typeof(ChannelException) },
    };

    [Theory]
    [MemberData(nameof(KnownCodes))]
    public void Every_code_has_its_own_exception_and_converts_back(byte major, byte minor, Type expected)
    {
        var code = ErrorCode.FromWire(major, minor);
        Assert.Equal((ErrorMajor)major, code.Major);
        Assert.Equal(minor, code.Minor);

        var exception = PaperclipException.FromCode(code, "why");
        Assert.IsType(expected, exception);
        Assert.Equal(code, exception.Code);
        Assert.Contains("why", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 6)]
    [InlineData(2, 4)]
    [InlineData(3, 15)]
    [InlineData(4, 0)]
    [InlineData(255, 255)]
    public void Unknown_major_or_minor_reads_as_error_unknown(byte major, byte minor)
    {
        var code = ErrorCode.FromWire(major, minor);
        Assert.Equal(ErrorCode.Unknown, code);
        Assert.Equal(typeof(PaperclipException), PaperclipException.FromCode(code).GetType());
    }

    [Fact]
    public void Names_follow_the_spec()
    {
        Assert.Equal("CONNECTION / NO_SPACE", ErrorCode.Of(ConnectionError.NoSpace).ToString());
        Assert.Equal("DISCONNECT / SERVER_DISCONNECT", ErrorCode.Of(DisconnectReason.ServerDisconnect).ToString());
        Assert.Equal("PACKET / INIT_VECTOR", ErrorCode.Of(PacketError.InitVector).ToString());
        Assert.Equal("ERROR / UNKNOWN", ErrorCode.Unknown.ToString());
    }

    [Fact]
    public void Serial_number_arithmetic_wraps()
    {
        Assert.True(SequenceNumber.IsNewer(0, 65535));
        Assert.True(SequenceNumber.IsNewer(32767, 0));
        Assert.False(SequenceNumber.IsNewer(32768, 0));
        Assert.False(SequenceNumber.IsNewer(5, 5));
        Assert.False(SequenceNumber.IsNewer(65535, 0));
    }
}
