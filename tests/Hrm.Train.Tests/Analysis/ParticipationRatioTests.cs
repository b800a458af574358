using Hrm.Train.Analysis;

namespace Hrm.Train.Tests.Analysis;

public sealed class ParticipationRatioTests
{
    // d = 7 < n = 10 takes the covariance path, d = 40 > n the Gram path; both must give the same ratio.
    [Theory]
    [InlineData(5, 7)]
    [InlineData(5, 40)]
    [InlineData(1, 3)]
    public void K_independent_equal_variance_directions_give_k(int k, int d)
    {
        var rng = new Random(k * 100 + d);
        int n = 2 * k;
        var x = new float[n * d];
        float offset = (float)(rng.NextDouble() * 50);   // a common mean that the centring must remove
        for (int j = 0; j < k; j++)
        {
            Array.Fill(x, offset, 2 * j * d, 2 * d);
            x[2 * j * d + j] += 1.5f;        // +a e_j
            x[(2 * j + 1) * d + j] -= 1.5f;  // -a e_j
        }
        Assert.Equal(k, ParticipationRatio.OfSamples(x, n, d), 4);
    }

    [Theory]
    [InlineData(30, 6)]
    [InlineData(5, 50)]
    public void A_rank_one_set_gives_one(int n, int d)
    {
        var rng = new Random(n + d);
        float[] v = [.. Enumerable.Range(0, d).Select(_ => (float)rng.NextDouble() - 0.5f)];
        float[] m = [.. Enumerable.Range(0, d).Select(_ => (float)rng.NextDouble() * 4)];
        var x = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            float t = (float)(rng.NextDouble() * 2 - 1);
            for (int c = 0; c < d; c++) x[i * d + c] = m[c] + t * v[c];
        }
        Assert.Equal(1.0, ParticipationRatio.OfSamples(x, n, d), 4);
    }

    [Theory]
    [InlineData(12, 7, 1)]
    [InlineData(6, 15, 2)]
    [InlineData(200, 9, 3)]
    [InlineData(9, 40, 4)]
    public void Matches_the_eigenvalues_of_the_covariance_from_a_jacobi_solver(int n, int d, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n * d];
        // Unequal scales per dimension, so the spectrum is far from flat.
        for (int i = 0; i < x.Length; i++) x[i] = (float)((rng.NextDouble() - 0.5) * (1 + i % d) + 3);
        double[] lambda = JacobiEigenvalues(Covariance(x, n, d), d);
        double expected = Math.Pow(lambda.Sum(), 2) / lambda.Sum(l => l * l);
        double pr = ParticipationRatio.OfSamples(x, n, d);
        Assert.True(Math.Abs(pr - expected) <= 1e-9 * expected, $"PR {pr}, eigenvalues give {expected}");
        Assert.InRange(pr, 1, Math.Min(n - 1, d) + 1e-9);
    }

    [Fact]
    public void Identical_samples_have_no_ratio_and_bad_shapes_are_rejected()
    {
        float[] same = [.. Enumerable.Repeat(2.5f, 4 * 3)];
        Assert.True(double.IsNaN(ParticipationRatio.OfSamples(same, 4, 3)));
        Assert.Contains("at least 2 samples", Assert.Throws<ArgumentException>(() => ParticipationRatio.OfSamples(new float[3], 1, 3)).Message);
        Assert.Contains("expected n·d = 4·3 = 12",
            Assert.Throws<ArgumentException>(() => ParticipationRatio.OfSamples(new float[11], 4, 3)).Message);
    }

    // The sample covariance (d, d) in double, straight from the definition.
    private static double[] Covariance(float[] x, int n, int d)
    {
        var mean = new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < d; c++) mean[c] += x[i * d + c] / (double)n;
        }
        var cov = new double[d * d];
        for (int a = 0; a < d; a++)
        {
            for (int b = 0; b < d; b++)
            {
                double s = 0;
                for (int i = 0; i < n; i++) s += (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b]);
                cov[a * d + b] = s / (n - 1);
            }
        }
        return cov;
    }

    // Cyclic Jacobi rotations until the off-diagonal mass vanishes; the diagonal is then the spectrum.
    private static double[] JacobiEigenvalues(double[] m, int d)
    {
        double norm = m.Sum(v => v * v);
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < d; p++)
            {
                for (int q = p + 1; q < d; q++) off += m[p * d + q] * m[p * d + q];
            }
            if (off <= 1e-28 * norm) break;
            for (int p = 0; p < d; p++)
            {
                for (int q = p + 1; q < d; q++)
                {
                    if (Math.Abs(m[p * d + q]) < 1e-300) continue;
                    double theta = (m[q * d + q] - m[p * d + p]) / (2 * m[p * d + q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < d; k++)
                    {
                        double kp = m[k * d + p], kq = m[k * d + q];
                        m[k * d + p] = c * kp - s * kq;
                        m[k * d + q] = s * kp + c * kq;
                    }
                    for (int k = 0; k < d; k++)
                    {
                        double pk = m[p * d + k], qk = m[q * d + k];
                        m[p * d + k] = c * pk - s * qk;
                        m[q * d + k] = s * pk + c * qk;
                    }
                }
            }
        }
        return [.. Enumerable.Range(0, d).Select(i => m[i * d + i])];
    }
}
