print("the program ran")
