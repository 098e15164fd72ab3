from city.app import main

main()
