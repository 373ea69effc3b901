using FinNews.Core;

namespace FinNews.Tests;

/// <summary>The one reading of since/until shared by the command line and the API.</summary>
public class RelativeInstantTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 6, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("30m", "2026-11-21T05:30:00Z")]
    [InlineData("24h", "2026-11-20T06:00:00Z")]
    [InlineData("24H", "2026-11-20T06:00:00Z")]
    [InlineData("7d", "2026-11-14T06:00:00Z")]
    [InlineData("2w", "2026-11-07T06:00:00Z")]
    [InlineData("0h", "2026-11-21T06:00:00Z")]
    [InlineData("2026-11-20T18:00:00Z", "2026-11-20T18:00:00Z")]
    [InlineData("2026-11-20T18:00:00", "2026-11-20T18:00:00Z")]
    [InlineData("2026-11-20T20:00:00+02:00", "2026-11-20T18:00:00Z")]
    public void Durations_count_back_from_now_and_instants_are_utc(string text, string expected)
    {
        RelativeInstant.TryParse(text, Now, out var instant).Should().BeTrue();

        instant.Should().Be(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
        instant.Offset.Should().Be(TimeSpan.Zero);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("24x")]
    [InlineData("-5h")]
    [InlineData("h")]
    [InlineData("yesterday")]
    [InlineData("99999999999d")]
    [InlineData("9999999999999w")]
    [InlineData("800000d")]
    public void Anything_else_is_refused_without_throwing(string text)
    {
        RelativeInstant.TryParse(text, Now, out _).Should().BeFalse();
    }
}
