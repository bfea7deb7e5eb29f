@inventory
Feature: The coffee beans run out and someone is asked to restock them
  The kitchen's shelf weighs the coffee beans. The brain counts the bags from
  the weight; when they run low it asks someone to restock them, through the
  same guards as every task, and sees the shelf filled again. The person who
  does it is paid.

  Background:
    Given the office clock runs at 60 times real speed

  Scenario: The kitchen drinks its coffee and Hanako restocks the beans
    Given "hanako" has an account on the dashboard
    And the shelf "shelf_01" in "kitchen" holds "コーヒー豆" in bags of 200 g on a 50 g tray, low below 2 bags
    And 1 person is in "kitchen"
    When the kitchen uses the beans on "shelf_01" at 10 g per simulated minute
    Then within 40 simulated minutes the dashboard lists a restock task for "コーヒー豆" in "kitchen"
    And the dashboard's live stock shows "コーヒー豆" low
    And for 5 simulated minutes the restock task for "コーヒー豆" is listed only once
    When the kitchen stops using the beans on "shelf_01"
    And "hanako" accepts the restock task
    And "hanako" puts 400 g of beans on "shelf_01"
    And "hanako" completes it reporting "resolved" with the note "補充しました"
    Then within 5 simulated minutes the brain sees "コーヒー豆" restocked in "kitchen"
    And within 3 simulated minutes "hanako"'s wallet holds the task's reward
