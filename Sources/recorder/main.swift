print("recorder: not built yet")
