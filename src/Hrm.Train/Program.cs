using Hrm.Train.Cli;

return CommandLine.Run(args);
