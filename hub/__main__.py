from hub.app import main

main()
