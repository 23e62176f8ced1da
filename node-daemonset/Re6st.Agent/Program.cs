// re6st-agent: see AgentCommandLine.Usage.
return await Re6st.Agent.AgentProgram.RunAsync(args).ConfigureAwait(false);
