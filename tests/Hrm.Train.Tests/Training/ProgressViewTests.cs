using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

/// <summary>The progress line's time left.</summary>
public sealed class ProgressViewTests
{
    [Theory]
    [InlineData(0.0, "00:00:00")]
    [InlineData(3_725.4, "01:02:05")]
    [InlineData(86_399.6, "1d 00:00:00")]
    [InlineData(2 * 86_400.0 + 3 * 3600 + 4 * 60 + 5, "2d 03:04:05")]
    [InlineData(998 * 86_400.0, "998d 00:00:00")]
    [InlineData(1e300, ">999d")]
    [InlineData(double.NaN, ">999d")]
    [InlineData(double.PositiveInfinity, ">999d")]
    public void Eta_keeps_the_days(double seconds, string expected) => Assert.Equal(expected, ProgressView.Eta(seconds));
}
