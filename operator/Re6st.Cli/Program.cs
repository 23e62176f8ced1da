using Re6st.Cli;

return await Re6stCommand.RunAsync(args);
