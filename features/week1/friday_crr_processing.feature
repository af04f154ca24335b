@week1 @friday @crr-team
Feature: Week 1 Friday - CRR team data processing and participant responses
  The CRR team closes the week's markets, runs them and posts results; participants see the
  markets move to POSTED and hear about it through messages.

  Background:
    Given the Market Sim plan is set up
    And it is Friday 09:00 of week 1
    And I am the participant

  @plan:W1-FRI-CRR-PROCESSING
  Scenario: The week's monthly markets are processed and posted
    When the CRR team runs the market "ALLOC_MN_2026_M03_T1" and posts the results
    And the CRR team runs the market "AUC_MN_2026_M03" and posts the results
    And the CRR team publishes the message "March monthly results are posted"
    Then the market "ALLOC_MN_2026_M03_T1" has status "POSTED"
    And the market "AUC_MN_2026_M03" has status "POSTED"
    And I can read the public message "March monthly results are posted"

  @plan:W1-FRI-CRR-PROCESSING @negative
  Scenario: Nothing can be submitted to a posted market
    Given I work in the monthly auction market
    When I create the auction portfolio "March after posting" from the file "auction_buy_bids.csv"
    Then the request is refused with error "MKT0004"
