from hallsim.demo import main

main()
