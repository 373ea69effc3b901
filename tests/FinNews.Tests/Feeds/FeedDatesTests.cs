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
    // US zones without their standard/daylight letter, Etc/GMT, GMT with a signed offset, an extra comma
    [InlineData("Mon, 26 January 2004 16:31:00 ET", "2004-01-26T21:31:00Z")]
    [InlineData("Mon, 26 January 2004 16:31:00 PT", "2004-01-27T00:31:00Z")]
    [InlineData("Mon, 26 January 2004 16:31:00 AT", "2004-01-26T20:31:00Z")]
    [InlineData("Wed, 19 Aug 2009 18:28:00 Etc/GMT", "2009-08-19T18:28:00Z")]
    [InlineData("Sun, 19 Feb 2012 22:40:00 GMT-01:30", "2012-02-20T00:10:00Z")]
    [InlineData("Mon, 13 Feb, 2012 06:28:00 UTC", "2012-02-13T06:28:00Z")]
    [InlineData("Thu Aug 30 2012 17:26:16 +0200", "2012-08-30T15:26:16Z")]
    [InlineData("Fri,24 Nov 2023 18:28:36 -0000", "2023-11-24T18:28:36Z")]
    [InlineData("Sat, 01 Jan 0100 00:30:00 +0100", "0099-12-31T23:30:00Z")]
    // asctime, with and without a zone before the year
    [InlineData("Sun Jan  4 16:29:06 2004", "2004-01-04T16:29:06Z")]
    [InlineData("Sun Jul 15 01:16:00 +0000 2012", "2012-07-15T01:16:00Z")]
    [InlineData("Tue Mar 11 09:05:00 EST 2025", "2025-03-11T14:05:00Z")]
    // ISO 8601 variants: basic format, ordinal day, two-digit years, Google's extra month digit
    [InlineData("20250307T102030Z", "2025-03-07T10:20:30Z")]
    [InlineData("20250307", "2025-03-07T00:00:00Z")]
    [InlineData("2025-066", "2025-03-07T00:00:00Z")]
    [InlineData("2024-366", "2024-12-31T00:00:00Z")]
    [InlineData("25-03-07", "2025-03-07T00:00:00Z")]
    [InlineData("250307", "2025-03-07T00:00:00Z")]
    [InlineData("-2503", "2025-03-01T00:00:00Z")]
    [InlineData("-25-03", "2025-03-01T00:00:00Z")]
    [InlineData("2025-003-07T10:20:30+00:00", "2025-03-07T10:20:30Z")]
    [InlineData("2025-03-07T10:20:30.123456789+05:30", "2025-03-07T04:50:30.1234567Z")]
    [InlineData("2025-03-07T10:20:30 EST", "2025-03-07T15:20:30Z")]
    // MSSQL: a space for the T, an optional zone after a space, a trailing fraction
    [InlineData("2025-03-07 23:56:58", "2025-03-07T23:56:58Z")]
    [InlineData("2025-03-07 23:56:58.0", "2025-03-07T23:56:58Z")]
    [InlineData("2025-03-07 23:56:58 -00:20", "2025-03-08T00:16:58Z")]
    // Perforce
    [InlineData("Fri, 2025/03/07 08:19:53 EDT", "2025-03-07T12:19:53Z")]
    // Greek, Hungarian, Korean (OnBlog and Nate, Korea Standard Time)
    [InlineData("Παρ, 07 Μάρ 2025 12:00:00 EST", "2025-03-07T17:00:00Z")]
    [InlineData("Κυρ, 13 Ιούλ 2025 09:30:00 +0300", "2025-07-13T06:30:00Z")]
    [InlineData("Τετ, 05 Νοε 2025 08:00:00 GMT", "2025-11-05T08:00:00Z")]
    [InlineData("2025-március-07T9:15-05:00", "2025-03-07T14:15:00Z")]
    [InlineData("2025-augusztus-20T18:00+02:00", "2025-08-20T16:00:00Z")]
    [InlineData("2025년 03월 07일 01:31:15", "2025-03-06T16:31:15Z")]
    [InlineData("2025-03-07 오후 11:23:17", "2025-03-07T14:23:17Z")]
    [InlineData("2025-03-07 오전 12:05:00", "2025-03-06T15:05:00Z")]
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

    [Theory]
    [InlineData("Fri, 30 Feb 2025 11:00:00 GMT")]
    [InlineData("Fri, 24 Jan 2025 25:00:00 GMT")]
    [InlineData("Fri, 24 Jan 2025 11:61:00 GMT")]
    [InlineData("2025-13-01")]
    [InlineData("2025-02-29T10:00:00Z")]
    [InlineData("2025-366")]
    [InlineData("2025-03-07T10:00:00+15:00")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 +9900")]
    [InlineData("January 3, 2018 13:47 PM EST")]
    [InlineData("2025-03-07 오후 13:23:17")]
    [InlineData("0001-01-01T00:30:00+01:00")]
    public void Impossible_dates_in_a_known_format_are_flagged_impossible(string input) =>
        FeedDates.Read(input).Should().Be(new FeedDate(null, DateIssue.Impossible));

    [Theory]
    [InlineData("03/04/2025")]
    [InlineData("04.03.2025")]
    [InlineData("not a date")]
    [InlineData("12345")]
    [InlineData("Seg, 24 Set 2018 19:42:40 -0300")]
    [InlineData("Fri, 24 Jan 2025 11:00:00 XYZ")]
    [InlineData("Sun, 16 Dec 2012 1:2:3:4 GMT")]
    [InlineData("2013-01-28T11:30:00-06:00Textra")]
    public void Dates_in_no_known_format_are_unreadable_never_guessed(string input) =>
        FeedDates.Read(input).Should().Be(new FeedDate(null, DateIssue.Unreadable));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void No_date_is_no_issue(string? input) => FeedDates.Read(input).Should().Be(default(FeedDate));
}
