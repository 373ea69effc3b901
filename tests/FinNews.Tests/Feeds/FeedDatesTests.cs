using System.Globalization;
using FinNews.Core.Feeds;

namespace FinNews.Tests.Feeds;

public class FeedDatesTests
{
    [Theory]
    // RFC 822 / 1123 with named zones
    [InlineData("Fri, 24 Jan 2025 11:00:00 GMT", "2025-01-24T11:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 UT", "2025-01-24T11:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 UTC", "2025-01-24T11:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 Z", "2025-01-24T11:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 17:08:44 EST", "2025-01-24T22:08:44Z")]
    [InlineData("Fri, 24 Jul 2025 17:08:44 EDT", "2025-07-24T21:08:44Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 CST", "2025-01-24T17:00:00Z")]
    [InlineData("Fri, 24 Jul 2025 11:00:00 CDT", "2025-07-24T16:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 MST", "2025-01-24T18:00:00Z")]
    [InlineData("Fri, 24 Jul 2025 11:00:00 MDT", "2025-07-24T17:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 PST", "2025-01-24T19:00:00Z")]
    [InlineData("Fri, 24 Jul 2025 11:00:00 PDT", "2025-07-24T18:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 CET", "2025-01-24T10:00:00Z")]
    [InlineData("Fri, 24 Jul 2025 11:00:00 CEST", "2025-07-24T09:00:00Z")]
    [InlineData("Fri, 24 Jul 2025 11:00:00 BST", "2025-07-24T10:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 IST", "2025-01-24T05:30:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 JST", "2025-01-24T02:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 gmt", "2025-01-24T11:00:00Z")]
    // military single letters (A = +1, N = -1, Z = UTC)
    [InlineData("Fri, 24 Jan 2025 11:00:00 A", "2025-01-24T10:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 M", "2025-01-23T23:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 N", "2025-01-24T12:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 Y", "2025-01-24T23:00:00Z")]
    // numeric offsets
    [InlineData("Fri, 24 Jan 2025 11:00:00 +0000", "2025-01-24T11:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 -0500", "2025-01-24T16:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 +05:30", "2025-01-24T05:30:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 +0530", "2025-01-24T05:30:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 GMT+0100", "2025-01-24T10:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 +0000 (UTC)", "2025-01-24T11:00:00Z")]
    // missing pieces and sloppy writing
    [InlineData("Fri, 24 Jan 2025 11:00 GMT", "2025-01-24T11:00:00Z")]
    [InlineData("24 Jan 2025 11:00:00 GMT", "2025-01-24T11:00:00Z")]
    [InlineData("Fri, 4 Jan 2025 11:00:00 GMT", "2025-01-04T11:00:00Z")]
    [InlineData("Fri,4 Jan 2025 11:00:00 GMT", "2025-01-04T11:00:00Z")]
    [InlineData("Friday, 24 January 2025 11:00:00 GMT", "2025-01-24T11:00:00Z")]
    [InlineData("Tue, 24 Sept 2024 11:00:00 GMT", "2024-09-24T11:00:00Z")]
    [InlineData("  Fri,   24  Jan   2025\n 11:00:00   GMT \r\n ", "2025-01-24T11:00:00Z")]
    [InlineData("Fri, 24 Jan 2025 11:00:00", "2025-01-24T11:00:00Z")]
    [InlineData("Fri, 24 Jan 2025", "2025-01-24T00:00:00Z")]
    [InlineData("Sat, 24-Jan-2025 11:00:00 GMT", "2025-01-24T11:00:00Z")]
    // two-digit years (RFC 2822 4.3: below 50 is 20xx)
    [InlineData("Wed, 03 Apr 02 15:00:00 GMT", "2002-04-03T15:00:00Z")]
    [InlineData("03 Apr 02 1500 GMT", "2002-04-03T15:00:00Z")]
    [InlineData("Sat, 03 Apr 49 15:00:00 GMT", "2049-04-03T15:00:00Z")]
    [InlineData("Sat, 03 Apr 99 15:00:00 GMT", "1999-04-03T15:00:00Z")]
    [InlineData("Sat, 03 Apr 50 15:00:00 GMT", "1950-04-03T15:00:00Z")]
    // month first (JavaScript toString, US style)
    [InlineData("Wed Jan 03 2018 13:47:00 GMT+0000", "2018-01-03T13:47:00Z")]
    [InlineData("January 3, 2018 1:47 PM EST", "2018-01-03T18:47:00Z")]
    // W3C-DTF / ISO 8601
    [InlineData("2025", "2025-01-01T00:00:00Z")]
    [InlineData("2025-03", "2025-03-01T00:00:00Z")]
    [InlineData("2025-03-07", "2025-03-07T00:00:00Z")]
    [InlineData("2025-03-07T10:20Z", "2025-03-07T10:20:00Z")]
    [InlineData("2025-03-07T10:20:30Z", "2025-03-07T10:20:30Z")]
    [InlineData("2025-03-07T10:20:30.45Z", "2025-03-07T10:20:30.45Z")]
    [InlineData("2016-06-01T08:35:00.001-07:00", "2016-06-01T15:35:00.001Z")]
    [InlineData("2016-02-01T17:22:00+01:00", "2016-02-01T16:22:00Z")]
    [InlineData("2016-02-01T17:22:00+0100", "2016-02-01T16:22:00Z")]
    [InlineData("2016-02-01T17:22:00", "2016-02-01T17:22:00Z")]
    [InlineData("2016-02-01 17:22:00Z", "2016-02-01T17:22:00Z")]
    [InlineData("2016-02-01t17:22:00z", "2016-02-01T17:22:00Z")]
    [InlineData("2016-12-31T24:00:00Z", "2017-01-01T00:00:00Z")]
    [InlineData("2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z")]
    public void Parses_to_utc(string input, string expected)
    {
        var parsed = FeedDates.Parse(input);

        parsed.Should().NotBeNull();
        parsed!.Value.Offset.Should().Be(TimeSpan.Zero);
        parsed.Value.Should().Be(DateTimeOffset.Parse(expected, CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("not a date")]
    [InlineData("12345")]
    [InlineData("Seg, 24 Set 2018 19:42:40 -0300")]
    [InlineData("Fri, 32 Jan 2025 11:00:00 GMT")]
    [InlineData("Fri, 30 Feb 2025 11:00:00 GMT")]
    [InlineData("Fri, 24 Jan 2025 25:00:00 GMT")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 XYZ")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 +9900")]
    [InlineData("2025-13-01")]
    [InlineData("2025-02-30T10:00:00Z")]
    [InlineData("0000-01-01T00:00:00-01:00")]
    [InlineData("9999-12-31T23:59:59-14:00")]
    public void Unreadable_dates_are_null_not_exceptions(string? input) =>
        FeedDates.Parse(input).Should().BeNull();
}
