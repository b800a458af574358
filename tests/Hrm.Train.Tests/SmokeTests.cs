using Hrm.Runtime.Config;

namespace Hrm.Train.Tests;

public class SmokeTests
{
    [Fact]
    public void Default_config_is_valid() => new HrmConfig().Validate();
}
